import { type Kysely, type Migration, sql } from 'kysely'
import type { StoreKind } from './dialects.js'

/**
 * The migrations that differ by backend, numbered with migrations.ts's; never edit a released one. On
 * PostgreSQL, audit records appended alone (the decisions' batches) go in one call: the write lock, a check
 * that the log still ends where the caller chained from (else the function answers where it ends, and the
 * caller chains again), the rows and the recorded head, in one round trip and one commit instead of six
 * (write-statements.ts `appendAuditAlone`). SQLite needs no such thing: its statements cost no round trip.
 */
export const byBackend = (kind: StoreKind): Record<string, Migration> => ({
  '0016_audit_append': {
    async up(db: Kysely<unknown>) {
      if (kind !== 'postgres') return
      // The rows come as one JSON array of audit_log rows: one parameter, not an array a column.
      await sql`create function custodian_append_audit(lock_key bigint, after_seq bigint, after_hash text,
          records json, head text)
        returns table (seq bigint, hash text) language plpgsql as $$
        declare
          last record;
        begin
          perform pg_advisory_xact_lock(lock_key);
          select a.seq, a.hash into last from audit_log a order by a.seq desc limit 1;
          if coalesce(last.seq, 0) <> after_seq or (last.seq is not null and last.hash <> after_hash) then
            return query select coalesce(last.seq, 0::bigint), last.hash;
            return;
          end if;
          insert into audit_log (seq, at, actor, action, resource, outcome, reason, prev_hash, hash)
            select r.seq, r.at, r.actor, r.action, r.resource, r.outcome, r.reason, r.prev_hash, r.hash
            from json_populate_recordset(null::audit_log, records) r;
          insert into meta (key, value) values ('audit_head', head)
            on conflict (key) do update set value = excluded.value;
        end $$`.execute(db)
    },
  },
})
