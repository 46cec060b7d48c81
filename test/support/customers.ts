/** Alice, the retail customer most consent tests start from, as the in-process service takes her. */
export const ALICE = {
  username: 'alice',
  name: 'Alice Liddell',
  email: 'alice@example.org',
  accountNumber: 'ACCT-0001',
  password: 'alice password',
} as const

/** Alice as `POST /v1/customers` takes her. */
export const ALICE_BODY = {
  username: ALICE.username,
  name: ALICE.name,
  email: ALICE.email,
  account_number: ALICE.accountNumber,
  password: ALICE.password,
} as const
