import type { AuditRow } from '../audit/chain.js'
import type { EspiFetchRow } from './espi-fetch-row.js'

/**
 * Row shapes of every table, as Kysely sees them. Times are ISO-8601 UTC strings in both databases so that
 * rows compare and serialise the same way on SQLite and PostgreSQL.
 */
export interface PermissionRow {
  id: string
  name: string
  description: string
  builtin: number
}

export interface RoleRow {
  id: string
  name: string
  description: string
}

export type EntitlementKind = 'role' | 'permission'

export interface RoleEntitlementRow {
  role_id: string
  entitlement_kind: EntitlementKind
  entitlement_id: string
}

export interface UserRow {
  id: string
  name: string
}

export type CredentialKind = 'password' | 'voice_print'

export interface CredentialRow {
  user_id: string
  kind: CredentialKind
  /** argon2id PHC string for a password; a SHA-256 digest for a voice print (which is also its lookup key). */
  secret_hash: string
}

export type GrantKind = 'role' | 'permission' | 'resource_role'

export interface UserGrantRow {
  user_id: string
  grant_kind: GrantKind
  target_id: string
}

export interface ResourceRow {
  id: string
  description: string
  parent_id: string | null
}

export interface ResourceRoleRow {
  id: string
  role_id: string
  resource_id: string
}

export interface AccessTokenRow {
  id: string
  user_id: string
  /** SHA-256 of the token's secret part, hex. The token itself is never stored. */
  secret_hash: string
  method: 'password' | 'voice_print' | 'system' | 'client_assertion'
  created_at: string
  expires_at: string
  idle_timeout_seconds: number
  last_used_at: string
  ended_at: string | null
}

/** House Mate model: houses, rooms, occupants, devices and their status values. */
export interface HouseRow {
  id: string
  address: string
}

export interface RoomRow {
  /** `<house>:<room>`, which is also the room's entitlement resource id. */
  id: string
  house_id: string
  name: string
  floor: number
  type: string
  windows: number
}

export type OccupantType = 'adult' | 'child' | 'pet'

export interface OccupantRow {
  id: string
  type: OccupantType
  /** 1 for an occupant registered by name; 0 for one a sensor noticed but nobody named. */
  known: number
}

export interface HouseOccupantRow {
  house_id: string
  occupant_id: string
}

export type DeviceKind = 'sensor' | 'appliance'

export interface DeviceRow {
  /** `<house>:<room>:<device>`, which is also the device's entitlement resource id. */
  id: string
  room_id: string
  name: string
  kind: DeviceKind
  type: string
  /** Watts drawn while powered on; null when unknown or not applicable. */
  energy_use_watts: number | null
}

export interface DeviceStatusRow {
  device_id: string
  status: string
  value: string
  updated_at: string
}

/**
 * Green Button / ESPI consent. Ids that a third party may see (customer, usage point, authorization,
 * subscription) are random and opaque: nothing personal crosses to a third party.
 */
export interface CustomerRow {
  id: string
  /** The entitlement user the customer logs in as. */
  user_id: string
  name: string
  email: string
  account_number: string
  created_at: string
}

export type ServiceKind = 'electricity' | 'gas' | 'water'

export interface UsagePointRow {
  id: string
  customer_id: string
  /** Shown to the customer only (it may name an address). */
  description: string
  service_kind: ServiceKind
  created_at: string
}

export type Standing = 'active' | 'suspended' | 'revoked'

export interface ThirdPartyRow {
  client_id: string
  /** SHA-256 of the client secret, hex. */
  secret_hash: string
  name: string
  description: string
  /** JSON array of exact redirect URIs. */
  redirect_uris: string
  notify_uri: string
  /** The widest ESPI scope it may ask for, canonical text. */
  scope: string
  /** ESPI thirdPartyScopeSelectionScreenURI: where a customer starting at the utility is sent on to. */
  scope_selection_uri: string | null
  standing: Standing
  created_at: string
  updated_at: string
}

export interface AuthorizationRow {
  id: string
  subscription_id: string
  customer_id: string
  client_id: string
  /** JSON array of usage point ids. */
  usage_point_ids: string
  scope: string
  period_start: string
  /** Access ends here (exclusive): the chosen end, or the end of the termination date. */
  period_end: string
  status: 'active' | 'terminated'
  terminated_at: string | null
  created_at: string
  updated_at: string
}

/** A message to deliver after a commit: an email to a customer, or a POST to a third party. */
export interface OutboxRow {
  id: string
  channel: 'email' | 'http'
  /** An email address, or the URL to POST to. */
  target: string
  subject: string
  body: string
  content_type: string
  attempts: number
  next_attempt_at: string
  /** Set while a node is delivering it, so that others leave it alone. */
  leased_until: string | null
  delivered_at: string | null
  last_error: string | null
  created_at: string
  /** JSON array of what the message names, for messages a newer one may absorb (publication notices). */
  topics: string | null
  /** The newer message that named everything this one named, and took its place. */
  superseded_by: string | null
}

/** One failed delivery attempt of an outbox message: every attempt's error is kept. */
export interface OutboxAttemptRow {
  message_id: string
  attempt: number
  at: string
  error: string
}

/** oidc-provider's own records (sessions, codes, tokens, grants): operational, not replicated. */
export interface OidcPayloadRow {
  model: string
  /** For bearer secrets (tokens, codes) a SHA-256 of the id: a database read yields no usable token. */
  id: string
  payload: string
  grant_id: string | null
  uid: string | null
  client_id: string | null
  /** Epoch milliseconds; null: never. */
  expires_at: number | null
  consumed_at: number | null
}

/** A signed evidence token's id, recorded when it is accepted (see replay-store.ts): operational. */
export interface EvidenceReplayRow {
  issuer: string
  jti: string
  /** Epoch milliseconds after which the token cannot verify any more, and the row may go. */
  expires_at: number
}

export interface ChangeRow {
  revision: number
  at: string
  tbl: string
  op: 'put' | 'delete'
  /** JSON of the row (put) or of its key columns (delete). */
  row: string
}

/** A participant (organisation) of a trust-framework scheme, with its roles. */
export interface ParticipantRow {
  id: string
  name: string
  /** JSON array of role URLs. */
  roles: string
  /** JSON array of the obligation URLs it declares it understands. */
  understands: string
  created_at: string
  updated_at: string
}

/** A catalog entry: a data service, the roles any one of which gives access, and its licence. */
export interface CatalogServiceRow {
  url: string
  title: string
  /** JSON array of role URLs. */
  roles: string
  licence: string
  updated_at: string
}

/** The Registry's machine-readable interpretation of a licence. */
export interface LicenceRow {
  url: string
  legal_text: string
  /** JSON arrays of grant and obligation URLs (standard ones in the ib1: namespace, new names). */
  grants: string
  obligations: string
  updated_at: string
}

/** A data owner's delegation evidence in the Authorization Register: one per issuer and subject. */
export interface DelegationPolicyRow {
  policy_issuer: string
  access_subject: string
  /** The delegationEvidence object, JSON. */
  evidence: string
  updated_at: string
}

/** A BDI association; the root network has no parent. */
export interface TrustAssociationRow {
  id: string
  parent: string | null
  /** JSON trust decision matrix, or null for the parent's (the default at the root). */
  matrix: string | null
  own_logic_allowed: number
  updated_at: string
}

/** What is known of a party: its level of assurance and its reputation (JSON {level, source, at}). */
export interface TrustPartyRow {
  id: string
  assurance: string | null
  reputation: string | null
  updated_at: string
}

export interface TrustMembershipRow {
  party_id: string
  association_id: string
  status: string
  valid_from: number | null
  valid_until: number | null
}

/** A data service under the BDI decision: its association, classification, and the data owner behind it. */
export interface TrustServiceRow {
  id: string
  association: string
  classification: string
  matrix: string | null
  /** The data owner whose delegation evidence a high classification asks for, and the resource type. */
  owner: string | null
  resource_type: string | null
  updated_at: string
}

/**
 * Green Button data: published consumption data, kept outside the change log because it is data
 * served to third parties, not entitlement state. Times are epoch milliseconds.
 */
export interface GbResourceRow {
  /** Random: third parties see it in resource URIs. */
  id: string
  /** The Custodian usage point the resource belongs to. */
  usage_point_id: string
  /** UsagePoint, MeterReading, ReadingType, ElectricPowerUsageSummary, LocalTimeParameters, ... */
  kind: string
  /** Where the imported file put it, relative to its usage point (`MeterReading/01`), for later revisions. */
  source: string
  /** A MeterReading's ReadingType, a UsagePoint's LocalTimeParameters. */
  link_id: string | null
  /** A MeterReading's interval length in seconds (from its ReadingType), for IntervalDuration scopes. */
  interval_length: number | null
  title: string
  /** The ESPI element, serialized. */
  content: string
  published: number
  updated: number
}

/** An IntervalBlock: its readings are the rows of gb_readings in [start, start + duration). */
export interface GbBlockRow {
  meter_reading_id: string
  start: number
  duration: number
  published: number
  updated: number
}

/** One IntervalReading, keyed by its meter reading and start, so that a revision replaces it. */
export interface GbReadingRow {
  meter_reading_id: string
  start: number
  duration: number
  value: number
  cost: number | null
  /** ReadingQuality codes, comma-separated ('' for none). */
  qualities: string
  published: number
  updated: number
}

/** A Green Button import in progress (staged-import.ts). Times are epoch milliseconds. */
export interface GbImportRow {
  id: string
  /** The process writing it (`host:pid`), so that another can tell when it died. */
  owner: string
  /** `staging`: nothing of it is published, a crash drops it; `publishing`: committed, a crash resumes it. */
  state: 'staging' | 'publishing'
  heartbeat: number
  /** The publication time its rows get. */
  at: number
  /** When it was committed: imports publish in this order. */
  committed: number | null
  resources_changed: number
  changed_readings: number
  /** The notices (OutboxMessage[], JSON) it sends once published, if it changed anything. */
  notices: string | null
}

/** One staged IntervalBlock with its readings (JSON) until they are published; `changed` once they are. */
export interface GbStagedBlockRow {
  import_id: string
  seq: number
  meter_reading_id: string
  start: number
  duration: number
  readings: string | null
  changed: number | null
}

export interface MetaRow {
  key: string
  value: string
}

/** Login throttling: one row per key (see entitlements/throttle.ts). Not replicated: every node reads it. */
export interface LoginThrottleRow {
  key: string
  /** The user the key is about (pair and user keys), for an administrator's unlock. */
  user_id: string | null
  failures: number
  first_failure_ms: number
  locked_until_ms: number
  last_success_ms: number
}

/** The tables that hold entitlement state and travel through the change log, with their key columns. */
export const replicatedTables = {
  permissions: ['id'],
  roles: ['id'],
  role_entitlements: ['role_id', 'entitlement_kind', 'entitlement_id'],
  users: ['id'],
  credentials: ['user_id', 'kind'],
  user_grants: ['user_id', 'grant_kind', 'target_id'],
  resources: ['id'],
  resource_roles: ['id'],
  access_tokens: ['id'],
  hm_houses: ['id'],
  hm_rooms: ['id'],
  hm_occupants: ['id'],
  hm_house_occupants: ['house_id', 'occupant_id'],
  hm_devices: ['id'],
  hm_device_status: ['device_id', 'status'],
  espi_customers: ['id'],
  espi_usage_points: ['id'],
  espi_third_parties: ['client_id'],
  espi_authorizations: ['id'],
  ib1_participants: ['id'],
  ib1_services: ['url'],
  ib1_licences: ['url'],
  ishare_policies: ['policy_issuer', 'access_subject'],
  bdi_associations: ['id'],
  bdi_parties: ['id'],
  bdi_memberships: ['party_id', 'association_id'],
  bdi_services: ['id'],
} as const

export type ReplicatedTable = keyof typeof replicatedTables

export interface ReplicatedRows {
  permissions: PermissionRow
  roles: RoleRow
  role_entitlements: RoleEntitlementRow
  users: UserRow
  credentials: CredentialRow
  user_grants: UserGrantRow
  resources: ResourceRow
  resource_roles: ResourceRoleRow
  access_tokens: AccessTokenRow
  hm_houses: HouseRow
  hm_rooms: RoomRow
  hm_occupants: OccupantRow
  hm_house_occupants: HouseOccupantRow
  hm_devices: DeviceRow
  hm_device_status: DeviceStatusRow
  espi_customers: CustomerRow
  espi_usage_points: UsagePointRow
  espi_third_parties: ThirdPartyRow
  espi_authorizations: AuthorizationRow
  ib1_participants: ParticipantRow
  ib1_services: CatalogServiceRow
  ib1_licences: LicenceRow
  ishare_policies: DelegationPolicyRow
  bdi_associations: TrustAssociationRow
  bdi_parties: TrustPartyRow
  bdi_memberships: TrustMembershipRow
  bdi_services: TrustServiceRow
}

export interface Database extends ReplicatedRows {
  changes: ChangeRow
  audit_log: AuditRow
  outbox: OutboxRow
  outbox_attempts: OutboxAttemptRow
  oidc_payloads: OidcPayloadRow
  meta: MetaRow
  login_throttle: LoginThrottleRow
  gb_resources: GbResourceRow
  gb_blocks: GbBlockRow
  gb_readings: GbReadingRow
  gb_imports: GbImportRow
  gb_staged_blocks: GbStagedBlockRow
  evidence_replay: EvidenceReplayRow
  espi_fetches: EspiFetchRow
}
