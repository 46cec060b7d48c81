// The world the access-check benchmarks share (batch-check, check-http, check-inprocess): houses of rooms,
// users with a resource role on their house (40% adults), what each user holds, the command script that
// provisions it, and tokens issued straight into the store (argon2 logins are not what is measured).

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { Readable } from 'node:stream'
import { prng } from './prng.js'

export const HOUSES = 100
export const ROOMS = 3
export const USERS_PER_HOUSE = 10
export const ADULT = ['control_oven', 'control_door', 'control_window']
export const CHILD = ['control_door', 'control_window']
export const ASKED = [...ADULT, 'control_garage'] // one nobody holds: the deny path with an unknown permission

/** `houses` houses with their rooms, and USERS_PER_HOUSE users in each; the same for the same seed. */
export function world(seed, houseCount = HOUSES) {
  const random = prng(seed)
  const houses = []
  for (let h = 1; h <= houseCount; h++) {
    const rooms = []
    for (let r = 1; r <= ROOMS; r++) rooms.push(`house${h}_room${r}`)
    houses.push({ id: `house${h}`, rooms })
  }
  const users = []
  for (const house of houses)
    for (let k = 0; k < USERS_PER_HOUSE; k++)
      users.push({ id: `user${users.length + 1}`, house, adult: random() < 0.4 })
  return { houses, users }
}

/** What each user holds: "permission resource" for every resource of the user's house. */
export function holdings({ users }) {
  const held = new Map()
  for (const user of users) {
    const set = new Set()
    for (const permission of user.adult ? ADULT : CHILD)
      for (const resource of [user.house.id, ...user.house.rooms]) set.add(`${permission} ${resource}`)
    held.set(user.id, set)
  }
  return held
}

/** The command script that provisions the world (bootstrap mode: no administrator yet). */
export function provisioningScript({ houses, users }) {
  const lines = [
    ...ADULT.map((p) => `define_permission ${p}, ${p}, ${p}`),
    'define_role adult, Adult, every device',
    ...ADULT.map((p) => `add_entitlement_to_role adult, ${p}`),
    'define_role child, Child, doors and windows',
    ...CHILD.map((p) => `add_entitlement_to_role child, ${p}`),
  ]
  for (const house of houses) {
    lines.push(`create_resource ${house.id}, a house`)
    for (const room of house.rooms) lines.push(`create_resource ${room}, a room, ${house.id}`)
    lines.push(`create_resource_role ${house.id}_adult, adult, ${house.id}`)
    lines.push(`create_resource_role ${house.id}_child, child, ${house.id}`)
  }
  for (const user of users) {
    lines.push(`create_user ${user.id}, ${user.id}`)
    lines.push(`add_resource_role_to_user ${user.id}, ${user.house.id}_${user.adult ? 'adult' : 'child'}`)
  }
  return lines
}

/**
 * The world as a `custodian import entitlements` file (JSON Lines) at `file`, and `more` records after it: the
 * same permissions, roles, resources, resource roles, users and grants as provisioningScript, in one
 * all-or-nothing import, which a million users take in seconds where the script takes hours.
 */
export async function writeWorldImport({ houses, users }, file, more = []) {
  const out = createWriteStream(file)
  const write = async (record) => {
    if (!out.write(`${JSON.stringify(record)}\n`)) await once(out, 'drain')
  }
  for (const id of ADULT) await write({ type: 'permission', id, name: id, description: id })
  await write({ type: 'role', id: 'adult', name: 'Adult', description: 'every device', permissions: ADULT })
  await write({
    type: 'role',
    id: 'child',
    name: 'Child',
    description: 'doors and windows',
    permissions: CHILD,
  })
  for (const house of houses) {
    await write({ type: 'resource', id: house.id, description: 'a house' })
    for (const room of house.rooms)
      await write({ type: 'resource', id: room, description: 'a room', parent: house.id })
    for (const role of ['adult', 'child'])
      await write({ type: 'resource_role', id: `${house.id}_${role}`, role, resource: house.id })
  }
  for (const user of users) {
    await write({ type: 'user', id: user.id, name: user.id })
    await write({
      type: 'grant',
      user: user.id,
      resource_role: `${user.house.id}_${user.adult ? 'adult' : 'child'}`,
    })
  }
  for (const record of more) await write(record)
  out.end()
  await once(out, 'finish')
}

/** Runs the script on an open Custodian; throws if any command failed. */
export async function runProvisioning(custodian, lines) {
  const { runScript } = await import('../dist/script/run-script.js')
  let failed = 0
  await runScript(custodian, Readable.from(lines.join('\n')), (report) => {
    if (!report.ok) failed++
  })
  if (failed > 0) throw new Error(`${failed} provisioning commands failed`)
}

/** One token a user, living a day, issued in one write; the tokens in the order of `users`. */
export async function issueTokens(custodian, users) {
  const { issueToken } = await import('../dist/entitlements/tokens.js')
  const { startToken } = await import('../dist/entitlements/changes.js')
  const now = custodian.now()
  const created = new Date(now).toISOString()
  const issued = users.map((user) => ({ user, ...issueToken() }))
  const row = ({ user, id, secretHash }) => ({
    id,
    user_id: user.id,
    secret_hash: secretHash,
    method: 'password',
    created_at: created,
    expires_at: new Date(now + 86_400_000).toISOString(),
    idle_timeout_seconds: 86_400,
    last_used_at: created,
    ended_at: null,
  })
  await custodian.writeFor('bench', 'token.issue', '-', () => ({
    changes: issued.flatMap((token) => startToken(row(token)).changes),
    summary: `issued ${issued.length} tokens`,
  }))
  return issued.map(({ token }) => token)
}

/** Starts a node child process that prints "serving at URL" (custodian serve, a baseline server); its URL, output and stop. */
export function startChild(args, env = {}) {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const url = new Promise((resolve, reject) => {
    const seen = (chunk) => {
      output += chunk
      const match = /serving at (http:\/\/\S+)/.exec(output)
      if (match) resolve(match[1])
    }
    child.stdout.on('data', seen)
    child.stderr.on('data', seen)
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${output}`)))
  })
  return {
    url,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await once(child, 'exit')
    },
  }
}

/** A fresh PostgreSQL database `name` on the server at `serverUrl` for one run, and how to drop it. */
export async function postgresDatabase(serverUrl, name) {
  const { default: pg } = await import('pg')
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  await admin.query(`create database ${name}`)
  await admin.end()
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  return {
    db: url.toString(),
    drop: async () => {
      const again = new pg.Client({ connectionString: serverUrl })
      await again.connect()
      await again.query(`drop database if exists ${name} with (force)`)
      await again.end()
    },
  }
}

/** A JSON Lines import file at `file` of `users` new users, `prefix`0 onwards, each granted control_door. */
export async function usersWithAGrant(file, users, prefix) {
  const out = createWriteStream(file)
  for (let u = 0; u < users; u++) {
    const line = `{"type":"user","id":"${prefix}${u}","name":"User ${u}"}\n{"type":"grant","user":"${prefix}${u}","permission":"control_door"}\n`
    if (!out.write(line)) await once(out, 'drain')
  }
  await new Promise((resolve) => out.end(resolve))
  return file
}
