import { readdir, readFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { simpleParser } from 'mailparser'

export interface MailboxMessage {
  file: string
  date: string
  to: string
  subject: string
  text: string
}

/** The messages written to the mailbox folder when no SMTP server is set, newest first. */
export async function readMailbox(folder: string, limit = 100): Promise<MailboxMessage[]> {
  const dir = resolve(folder)
  let files: string[]
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.eml'))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  // File names start with the time they were written, so name order is time order.
  const newest = files.sort().reverse().slice(0, limit)
  return Promise.all(
    newest.map(async (file) => {
      const mail = await simpleParser(await readFile(join(dir, file)))
      const to = Array.isArray(mail.to) ? mail.to.map((a) => a.text).join(', ') : (mail.to?.text ?? '')
      return {
        file,
        date: mail.date?.toISOString() ?? '',
        to,
        subject: mail.subject ?? '',
        text: mail.text ?? '',
      }
    }),
  )
}
