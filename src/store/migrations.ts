import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely'
import { CustodianError } from '../errors.js'
import { storeLocation, whyUnreached } from './connection-errors.js'
import type { StoreKind } from './dialects.js'
import { byBackend } from './migrations-by-backend.js'

/**
 * Versioned migrations, applied in name order on every start. Written once with Kysely's schema builder so
 * that the same text creates the same tables on SQLite and PostgreSQL. Never edit a released migration:
 * add a new one.
 */
const migrations: Record<string, Migration> = {
  '0001_entitlements': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('permissions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('builtin', 'integer', (c) => c.notNull().defaultTo(0))
        .execute()
      await db.schema
        .createTable('roles')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .execute()
      await db.schema
        .createTable('role_entitlements')
        .addColumn('role_id', 'text', (c) => c.notNull())
        .addColumn('entitlement_kind', 'text', (c) => c.notNull())
        .addColumn('entitlement_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('role_entitlements_pk', ['role_id', 'entitlement_kind', 'entitlement_id'])
        .execute()
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .execute()
      await db.schema
        .createTable('credentials')
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('credentials_pk', ['user_id', 'kind'])
        .execute()
      await db.schema
        .createTable('user_grants')
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('grant_kind', 'text', (c) => c.notNull())
        .addColumn('target_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('user_grants_pk', ['user_id', 'grant_kind', 'target_id'])
        .execute()
      await db.schema
        .createTable('resources')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('parent_id', 'text')
        .execute()
      await db.schema
        .createTable('resource_roles')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('role_id', 'text', (c) => c.notNull())
        .addColumn('resource_id', 'text', (c) => c.notNull())
        .execute()
      await db.schema
        .createTable('access_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('method', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('idle_timeout_seconds', 'integer', (c) => c.notNull())
        .addColumn('last_used_at', 'text', (c) => c.notNull())
        .addColumn('ended_at', 'text')
        .execute()
      await db.schema
        .createTable('changes')
        .addColumn('revision', 'bigint', (c) => c.primaryKey())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('tbl', 'text', (c) => c.notNull())
        .addColumn('op', 'text', (c) => c.notNull())
        .addColumn('row', 'text', (c) => c.notNull())
        .execute()
      await db.schema
        .createTable('audit_log')
        .addColumn('seq', 'bigint', (c) => c.primaryKey())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('resource', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute()
      await db.schema
        .createTable('meta')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute()
      // 'admin' is entitlements/permissions.ts's ADMIN_PERMISSION, written out: the store depends on no domain.
      await sql`insert into permissions (id, name, description, builtin)
        values ('admin', 'Custodian Administrator', 'Administer Custodian: every permission on every resource', 1)`.execute(
        db,
      )
    },
  },
  '0002_housemate': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('hm_houses')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('address', 'text', (c) => c.notNull())
        .execute()
      await db.schema
        .createTable('hm_rooms')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('house_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('floor', 'integer', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('windows', 'integer', (c) => c.notNull())
        .execute()
      await db.schema
        .createTable('hm_occupants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('known', 'integer', (c) => c.notNull())
        .execute()
      await db.schema
        .createTable('hm_house_occupants')
        .addColumn('house_id', 'text', (c) => c.notNull())
        .addColumn('occupant_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('hm_house_occupants_pk', ['house_id', 'occupant_id'])
        .execute()
      await db.schema
        .createTable('hm_devices')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('room_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('energy_use_watts', 'double precision')
        .execute()
      await db.schema
        .createTable('hm_device_status')
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('hm_device_status_pk', ['device_id', 'status'])
        .execute()
    },
  },
  '0003_consent': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('espi_customers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('account_number', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute()
      await db.schema
        .createTable('espi_usage_points')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('customer_id', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('service_kind', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute()
      await db.schema
        .createTable('espi_third_parties')
        .addColumn('client_id', 'text', (c) => c.primaryKey())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('redirect_uris', 'text', (c) => c.notNull())
        .addColumn('notify_uri', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('standing', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute()
      await db.schema
        .createTable('espi_authorizations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subscription_id', 'text', (c) => c.notNull().unique())
        .addColumn('customer_id', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('usage_point_ids', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('period_start', 'text', (c) => c.notNull())
        .addColumn('period_end', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('terminated_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute()
    },
  },
  '0004_outbox': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('outbox')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'text', (c) => c.notNull())
        .addColumn('leased_until', 'text')
        .addColumn('delivered_at', 'text')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute()
      await db.schema
        .createIndex('outbox_due')
        .on('outbox')
        .columns(['delivered_at', 'next_attempt_at'])
        .execute()
    },
  },
  '0005_oidc_payloads': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('oidc_payloads')
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('grant_id', 'text')
        .addColumn('uid', 'text')
        .addColumn('client_id', 'text')
        .addColumn('expires_at', 'bigint')
        .addColumn('consumed_at', 'bigint')
        .addPrimaryKeyConstraint('oidc_payloads_pk', ['model', 'id'])
        .execute()
      await db.schema
        .createIndex('oidc_payloads_grant')
        .on('oidc_payloads')
        .columns(['model', 'grant_id'])
        .execute()
      await db.schema.createIndex('oidc_payloads_uid').on('oidc_payloads').columns(['model', 'uid']).execute()
      await db.schema.createIndex('oidc_payloads_expires').on('oidc_payloads').column('expires_at').execute()
    },
  },
  '0006_third_party_scope_selection': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('espi_third_parties').addColumn('scope_selection_uri', 'text').execute()
    },
  },
  '0007_green_button_data': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('gb_resources')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('usage_point_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('link_id', 'text')
        .addColumn('interval_length', 'bigint')
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('content', 'text', (c) => c.notNull())
        .addColumn('published', 'bigint', (c) => c.notNull())
        .addColumn('updated', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('gb_resources_source', ['usage_point_id', 'kind', 'source'])
        .execute()
      await db.schema
        .createTable('gb_blocks')
        .addColumn('meter_reading_id', 'text', (c) => c.notNull())
        .addColumn('start', 'bigint', (c) => c.notNull())
        .addColumn('duration', 'bigint', (c) => c.notNull())
        .addColumn('published', 'bigint', (c) => c.notNull())
        .addColumn('updated', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('gb_blocks_pk', ['meter_reading_id', 'start'])
        .execute()
      await db.schema
        .createTable('gb_readings')
        .addColumn('meter_reading_id', 'text', (c) => c.notNull())
        .addColumn('start', 'bigint', (c) => c.notNull())
        .addColumn('duration', 'bigint', (c) => c.notNull())
        .addColumn('value', 'bigint', (c) => c.notNull())
        .addColumn('cost', 'bigint')
        .addColumn('qualities', 'text', (c) => c.notNull())
        .addColumn('published', 'bigint', (c) => c.notNull())
        .addColumn('updated', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('gb_readings_pk', ['meter_reading_id', 'start'])
        .execute()
    },
  },
  '0008_trust_framework_catalog': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('ib1_participants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('roles', 'text', (c) => c.notNull())
        .addColumn('understands', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute()
      await db.schema
        .createTable('ib1_services')
        .addColumn('url', 'text', (c) => c.primaryKey())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('roles', 'text', (c) => c.notNull())
        .addColumn('licence', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute()
      await db.schema
        .createTable('ib1_licences')
        .addColumn('url', 'text', (c) => c.primaryKey())
        .addColumn('legal_text', 'text', (c) => c.notNull())
        .addColumn('grants', 'text', (c) => c.notNull())
        .addColumn('obligations', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute()
    },
  },
  '0009_authorization_register': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('ishare_policies')
        .addColumn('policy_issuer', 'text', (c) => c.notNull())
        .addColumn('access_subject', 'text', (c) => c.notNull())
        .addColumn('evidence', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('ishare_policies_pk', ['policy_issuer', 'access_subject'])
        .execute()
    },
  },
  '0010_trust_decisions': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('bdi_associations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('parent', 'text')
        .addColumn('matrix', 'text')
        .addColumn('own_logic_allowed', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute()
      await db.schema
        .createTable('bdi_parties')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('assurance', 'text')
        .addColumn('reputation', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute()
      await db.schema
        .createTable('bdi_memberships')
        .addColumn('party_id', 'text', (c) => c.notNull())
        .addColumn('association_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('valid_from', 'bigint')
        .addColumn('valid_until', 'bigint')
        .addPrimaryKeyConstraint('bdi_memberships_pk', ['party_id', 'association_id'])
        .execute()
      await db.schema
        .createTable('bdi_services')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('association', 'text', (c) => c.notNull())
        .addColumn('classification', 'text', (c) => c.notNull())
        .addColumn('matrix', 'text')
        .addColumn('owner', 'text')
        .addColumn('resource_type', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute()
    },
  },
  '0011_evidence_replay': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('evidence_replay')
        .addColumn('issuer', 'text', (c) => c.notNull())
        .addColumn('jti', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('evidence_replay_pk', ['issuer', 'jti'])
        .execute()
      await db.schema
        .createIndex('evidence_replay_expires')
        .on('evidence_replay')
        .column('expires_at')
        .execute()
    },
  },
  '0012_login_throttle': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('login_throttle')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text')
        .addColumn('failures', 'integer', (c) => c.notNull())
        .addColumn('first_failure_ms', 'bigint', (c) => c.notNull())
        .addColumn('locked_until_ms', 'bigint', (c) => c.notNull())
        .addColumn('last_success_ms', 'bigint', (c) => c.notNull())
        .execute()
      await db.schema.createIndex('login_throttle_user').on('login_throttle').column('user_id').execute()
    },
  },
  '0013_outbox_topics_attempts': {
    async up(db: Kysely<unknown>) {
      // What a notice names (to merge it into a newer one), what superseded it, and every attempt's error.
      await db.schema.alterTable('outbox').addColumn('topics', 'text').execute()
      await db.schema.alterTable('outbox').addColumn('superseded_by', 'text').execute()
      await db.schema
        .createTable('outbox_attempts')
        .addColumn('message_id', 'text', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('error', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('outbox_attempts_pk', ['message_id', 'attempt'])
        .execute()
    },
  },
  '0014_staged_imports': {
    async up(db: Kysely<unknown>) {
      // A Green Button import stages its readings here in short transactions, then publishes them
      // (staged-import.ts): the store is never held for the whole file.
      await db.schema
        .createTable('gb_imports')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('heartbeat', 'bigint', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('committed', 'bigint')
        .addColumn('resources_changed', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('changed_readings', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('notices', 'text')
        .execute()
      await db.schema
        .createTable('gb_staged_blocks')
        .addColumn('import_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('meter_reading_id', 'text', (c) => c.notNull())
        .addColumn('start', 'bigint', (c) => c.notNull())
        .addColumn('duration', 'bigint', (c) => c.notNull())
        .addColumn('readings', 'text')
        .addColumn('changed', 'integer')
        .addPrimaryKeyConstraint('gb_staged_blocks_pk', ['import_id', 'seq'])
        .execute()
    },
  },
  '0015_espi_fetches': {
    async up(db: Kysely<unknown>) {
      // What each third party fetched of whose data, shown to the customer (espi-fetch-store.ts); pruned by age.
      await db.schema
        .createTable('espi_fetches')
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('customer_id', 'text', (c) => c.notNull())
        .addColumn('authorization_id', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('period_start', 'bigint')
        .addColumn('period_end', 'bigint')
        .addColumn('bytes', 'bigint')
        .execute()
      await db.schema
        .createIndex('espi_fetches_customer')
        .on('espi_fetches')
        .columns(['customer_id', 'at'])
        .execute()
      await db.schema.createIndex('espi_fetches_at').on('espi_fetches').column('at').execute()
    },
  },
}

/** Brings the schema of the store at `location` (its URL without the password) up to date. */
export async function migrateToLatest(db: Kysely<unknown>, location: string, kind: StoreKind): Promise<void> {
  const all = { ...migrations, ...byBackend(kind) }
  const provider: MigrationProvider = { getMigrations: async () => all }
  const migrator = new Migrator({ db, provider })
  const { error, results } = await migrator.migrateToLatest()
  if (!error) return
  const failed = results?.find((r) => r.status === 'Error')?.migrationName
  if (failed)
    throw new CustodianError(
      'Unavailable',
      `migration ${failed} failed: ${(error as Error).message ?? error}`,
    )
  // No migration ran: the store was not reached (or refused this user), which is no migration's fault.
  throw new CustodianError(
    'Unavailable',
    `could not connect to ${storeLocation(location)}: ${whyUnreached(error)}`,
  )
}
