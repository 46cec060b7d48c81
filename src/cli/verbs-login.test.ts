import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { promptSecret } from './verbs-login.js'

/** A terminal: keys typed in, what the screen shows out, and whether it is in raw mode (no echo). */
function terminal() {
  const input = new PassThrough() as PassThrough & { setRawMode: (on: boolean) => void; raw: boolean[] }
  input.raw = []
  input.setRawMode = (on) => {
    input.raw.push(on)
  }
  let screen = ''
  const output = new PassThrough()
  output.on('data', (chunk) => {
    screen += chunk
  })
  return { input, output, screen: () => screen }
}

describe('promptSecret', () => {
  it('reads a password in raw mode, honouring backspace, and never shows it', async () => {
    const tty = terminal()
    const asked = promptSecret('Password: ', tty.input as unknown as NodeJS.ReadStream, tty.output)
    tty.input.write('hunter3\u007f2')
    tty.input.write('\r')
    await expect(asked).resolves.toBe('hunter2')
    expect(tty.screen()).toBe('Password: \n')
    expect(tty.input.raw).toEqual([true, false])
  })

  it('gives up on Ctrl-C, leaving the terminal as it was', async () => {
    const tty = terminal()
    const asked = promptSecret('Password: ', tty.input as unknown as NodeJS.ReadStream, tty.output)
    tty.input.write('abc\u0003')
    await expect(asked).rejects.toThrow('login: no password given')
    expect(tty.input.raw).toEqual([true, false])
  })
})
