import { settings } from '../config.js'
import { entityViews } from '../entitlements/views.js'
import { commands } from '../script/commands.js'

const usage = `custodian: authorization server for consented data sharing

usage:
  custodian serve                      serve the HTTP API (prints its URL; first start prints an admin password)
  custodian demo                       serve with a sample utility and third party, to try the consent flow
  custodian script FILE [--json] [--token T]
                                       run a command script (FILE or - for stdin); exit 1 if any line failed;
                                       administrative commands use T (or CUSTODIAN_TOKEN) until a "login user"
  custodian backup FILE                a consistent copy of the SQLite store, while servers run (PostgreSQL:
                                       pg_dump); FILE must not exist
  custodian audit verify               check the audit log's hash chain
  custodian audit list [--after N] [--limit N] [--json]
  custodian audit prune --audit-retention-days N [--json]
                                       remove records older than N days (or the setting auditRetentionDays);
                                       verify then starts from the recorded checkpoint
  custodian import customers FILE.csv  customers (and usage points) from CSV, all or nothing, with progress
  custodian import greenbutton FILE [--usage-point ID | --map MAP.json]
                                       publish usage data: Green Button XML, or CSV of interval readings
                                       (usage_point,start,duration,value[,cost][,quality]); one transaction
  custodian import ... --nice N        imports run at nice 10 (0 to 19; 0: unchanged), so that a server on the
                                       same machine answers first
  custodian import entitlements FILE   permissions, roles, resources, resource roles, users, credentials and
                                       grants from JSON Lines (or CSV: FILE.csv), all or nothing, with progress;
                                       exit 1 with FILE:LINE: field: reason (docs/import-entitlements.md)
  custodian catalog load FILE.ttl|URL  catalog entries and licence interpretations (Turtle), all or nothing;
                                       exit 1 with FILE:LINE:COLUMN: reason on a bad document
  custodian catalog export             the catalog and licence interpretations as Turtle
  custodian participant add ID --role ROLE_URL... [--understands OBLIGATION_URL...] [--name NAME]
  custodian participant remove ID
  custodian access check --participant ID --service URL [--json]
                                       may the participant use the data service, under which licence;
                                       exit 0 allowed, 1 denied
  custodian delegation answer --policy POLICY.json --mask MASK.json [--at UNIX_SECONDS] [--json]
                                       the iSHARE delegation evidence a register returns for the mask,
                                       evaluated at --at, else now (policies outside their validity deny);
                                       exit 0 all permitted, 1 any denied
  custodian delegation sync --issuer ID
                                       copy an issuer's policies from the --remote-register (run on a schedule)
  custodian trust decide --party ID --service ID [--action A] [--evidence JWT] [--json]
                                       the BDI trust decision, input by input; exit 0 allowed, 1 denied
  custodian party assertion --key KEY.pem --chain CHAIN.pem --audience ID [--client-id ID]
                                       print an iSHARE client assertion (30 s) for the party ID's token
                                       endpoint, signed with KEY; the client id: the party CHAIN's certificate names
  custodian login --user ID            log in (password on stdin or in CUSTODIAN_PASSWORD); prints a token
  custodian login --voice-print VP     log in by voice print; prints a token
  custodian logout --token T           end a session
  custodian unlock USER                clear a user's login locks and failure counts, at every address
                                       (administrators: --token T)
  custodian show KIND [ID] [--json]    KIND: ${Object.keys(entityViews).join(', ')}
  custodian show configuration|energy-use [TARGET] / show sensor|appliance ADDRESS   (House Mate)
  custodian COMMAND ARG...             any script command, one argument per field, for example
                                         custodian define_permission control_oven "Control Oven" "Full control"
                                       administrative commands take --token T (or CUSTODIAN_TOKEN)
  custodian help                       this text, the script commands and every setting
  custodian --version                  the version

Exit status: 0 done (allowed), 1 refused, denied or failed, 2 a bad command line (unknown option or
command, a missing argument or file); errors go to standard error as "custodian: ...".
Every command takes --db (file path or postgres:// URL; default data/custodian.db under the current
directory) and --config FILE (JSON settings).`

/** `custodian help`: the usage, every script command and every setting. */
export function help(out: NodeJS.WritableStream): number {
  out.write(`${usage}\n\nscript commands:\n`)
  for (const spec of Object.values(commands)) out.write(`  ${spec.usage}\n      ${spec.help}\n`)
  out.write(`\nsettings (flag, environment variable, default):\n${describeSettings()}\n`)
  return 0
}

/** The settings table as text: each setting's flag, environment variable, default and what it does. */
export function describeSettings(): string {
  return Object.entries(settings)
    .map(
      ([name, s]) =>
        `  --${s.flag.padEnd(28)} ${s.env.padEnd(36)} default ${JSON.stringify(s.default)}\n      ${name}: ${s.help}`,
    )
    .join('\n')
}
