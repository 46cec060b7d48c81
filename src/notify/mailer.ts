import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import nodemailer from 'nodemailer'

export interface Mail {
  to: string
  subject: string
  text: string
}

export interface Mailer {
  send(mail: Mail): Promise<void>
  /** Where mail goes, for the start-up banner (never with a password). */
  readonly describe: string
}

/** Sends over SMTP when a URL is set; otherwise writes each message as an .eml file in the mailbox folder. */
export function createMailer(options: { smtpUrl: string; from: string; mailbox: string }): Mailer {
  if (options.smtpUrl) {
    const transport = nodemailer.createTransport(options.smtpUrl)
    const url = new URL(options.smtpUrl)
    return {
      describe: `SMTP ${url.hostname}:${url.port || (url.protocol === 'smtps:' ? 465 : 587)}`,
      async send(mail) {
        await transport.sendMail({ from: options.from, ...mail })
      },
    }
  }
  const folder = resolve(options.mailbox)
  const render = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' })
  return {
    describe: `mailbox folder ${folder}`,
    async send(mail) {
      const { message } = (await render.sendMail({ from: options.from, ...mail })) as { message: Buffer }
      await mkdir(folder, { recursive: true })
      const name = `${new Date().toISOString().replaceAll(':', '-')}-${randomBytes(4).toString('hex')}.eml`
      await writeFile(join(folder, name), message)
    },
  }
}
