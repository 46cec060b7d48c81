import type { AddressInfo } from 'node:net'
import { simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'

export interface ReceivedMail {
  to: string
  subject: string
  text: string
}

/** A real SMTP server on loopback that keeps every message it is given, parsed. */
export async function smtpListener() {
  const received: ReceivedMail[] = []
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((mail) => {
          const to = Array.isArray(mail.to) ? mail.to[0] : mail.to
          received.push({ to: to?.text ?? '', subject: mail.subject ?? '', text: mail.text ?? '' })
          callback()
        })
        .catch(callback)
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `smtp://127.0.0.1:${(server.server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** The settings that send a server's emails to `listener` promptly. */
export const mailTo = (listener: { url: string }) => ({
  CUSTODIAN_SMTP_URL: listener.url,
  CUSTODIAN_OUTBOUND_ALLOW: '127.0.0.1',
  CUSTODIAN_OUTBOX_POLL_MS: '100',
})

/** The one-time code in a self-registration email. */
export const oneTimeCode = (mail: ReceivedMail) => /one-time code is (\d{6})/.exec(mail.text)?.[1] ?? ''
