import type { Config } from '../config.js'
import { ConsentService } from '../consent/consent-service.js'
import { Custodian } from '../custodian.js'
import { DEMO_CUSTOMERS, type DemoThirdParty, seedDemo } from '../demo/demo.js'
import { tlsOptions, trustedProxies } from '../http/transport.js'
import { createLogger } from '../logger.js'
import { createMailer } from '../notify/mailer.js'
import { OutboxWorker } from '../notify/outbox-worker.js'

/** `custodian serve` and `custodian demo`: the HTTP API and the outbox worker, until SIGINT or SIGTERM. */
export async function serve(config: Config, out: NodeJS.WritableStream, demo = false): Promise<number> {
  // Checked first: a bad certificate or proxy list stops the server before it opens the store.
  const tls = tlsOptions(config)
  const trustProxy = trustedProxies(config)
  const logger = createLogger(config.logLevel, undefined, config.logFormat)
  const custodian = await Custodian.open({ config, logger })
  const admin = await custodian.ensureAdmin()
  // Loaded here only: the HTTP app brings oidc-provider, which warns on import under Node 20.
  const { buildApp } = await import('../http/app.js')
  let party: DemoThirdParty | undefined
  const app = await buildApp(custodian, {
    logger,
    trustProxy,
    ...(tls ? { tls } : {}),
    ...(demo ? { demo: () => party } : {}),
  })
  const address = await app.listen({ port: config.port, host: config.host })
  const url = address.replace('[::1]', 'localhost')
  if (!config.publicUrl) custodian.config.publicUrl = url
  const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, mailbox: config.mailbox })
  // The demo's third party is served here, so its notices go to this very server: allowed for the demo only.
  const outboundAllow = demo
    ? [config.outboundAllow, new URL(custodian.publicUrl).hostname].filter(Boolean).join(',')
    : config.outboundAllow
  const outbox = new OutboxWorker(custodian.store, mailer, logger, {
    pollMs: config.outboxPollMs,
    outboundAllow,
    metrics: custodian.metrics,
  })
  outbox.start()
  await custodian.store.serving((error) =>
    logger.error({ err: error }, 'the background checkpointer stopped: commits checkpoint again'),
  )
  if (demo) party = await seedDemo(custodian, new ConsentService(custodian))
  // One write, so that a reader of the pipe gets the whole banner at once.
  let banner = `Custodian is serving at ${url} (store: ${custodian.store.location}, revision ${custodian.revision})\n`
  banner += `  Start page: ${url}/   API documentation: ${url}/docs (OpenAPI: ${url}/openapi.json)\n`
  banner += `  Customer emails go to the ${mailer.describe}\n`
  if (admin) {
    banner += `  First administrator created: user "${admin.userId}", password "${admin.password}"\n`
    banner += '  This password is shown only once. Log in with POST /v1/sessions or `custodian login`.\n'
  }
  if (demo) {
    banner += `\n  Demo: open ${url}/demo/third-party and press "Connect my utility account".\n`
    banner += `  Customers: ${DEMO_CUSTOMERS.map((c) => `${c.username} / ${c.password}`).join(', ')}\n`
    banner += `  Their 3rd Party Access page: ${url}/account/access\n`
  }
  out.write(banner)
  await new Promise<void>((resolve) => {
    const stop = () => resolve()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
  await outbox.stop()
  const closing = app.close()
  // A keep-alive connection whose request finished after the close began would otherwise hold it open until
  // its keep-alive timeout: close each as soon as it is idle.
  const idle = setInterval(() => app.server.closeIdleConnections(), 100)
  await closing.finally(() => clearInterval(idle))
  await custodian.close()
  return 0
}
