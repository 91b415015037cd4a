/**
 * The HTTP face of the controller. Fastify with strict JSON schemas: no type coercion and no
 * silent removal of unknown fields, so wrong types and extra fields are refused with 400.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { DepositService } from '../services/deposits.js';
import type { DossierLookup } from '../services/lookup.js';
import type { PickupService } from '../services/pickups.js';
import type { RatingService } from '../services/ratings.js';
import type { SmsService } from '../services/sms.js';
import type { TrayService } from '../services/trays.js';
import type { StatsService } from '../services/stats.js';
import type { AuditTrail } from '../services/audit-trail.js';
import type { RetentionService } from '../services/retention.js';
import type { Procedure } from '../domain/procedures.js';
import { authHooks, documentAuth, type FindAccount } from './auth.js';
import { documentApi } from './openapi.js';
import { lazySchemaCompilers } from './lazy-compilers.js';
import { errorSchema, installErrorHandling } from './errors.js';
import { metricsRoutes, observeRequests, type MetricsExposition } from './metrics-route.js';
import { clientGuards, type ClientGuardOptions } from './guards.js';
import { healthRoutes, type HealthSources } from './routes/health.js';
import { adminRoutes } from './routes/admin.js';
import { citizenRoutes } from './routes/citizens.js';
import { procedureRoutes } from './routes/procedures.js';
import { simulatorRoutes, type SimulatorControls } from './routes/simulator.js';
import { paymentRoutes, paymentViewer, type PaymentHttp } from './routes/payments.js';
import { trayRoutes } from './routes/trays.js';
import { staffRoutes } from './routes/staff.js';
import { staffAccountRoutes } from './routes/staff-accounts.js';
import type { StaffAccountService } from '../services/staff-accounts.js';
import type { ResultService } from '../services/results.js';
import type { RoundService } from '../services/rounds.js';
import type { TrayChecks } from '../services/tray-checks.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { retentionRoutes } from './routes/retention.js';
import { uiRoutes } from './routes/ui.js';
import { idCardRoutes } from './routes/id-cards.js';
import type { IdCardScans } from '../services/id-cards.js';
import type { RoundHolders } from '../services/round-holders.js';
import type { SimulatedCardScanner } from '../services/ports.js';

export interface RegisteredRoute {
  method: string;
  url: string;
  /** Left out of the OpenAPI document on purpose (the screens' pages and files, Swagger UI). */
  hidden: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    registeredRoutes: RegisteredRoute[];
  }
}

export interface HttpDeps {
  logger: Logger;
  bodyLimit: number;
  /** The kiosk's addresses and the per-address rate limits (`http.kioskClients`, `http.rateLimits`). */
  clients: ClientGuardOptions;
  lockerName: string;
  /** The controller's version, for the OpenAPI document. */
  version?: string;
  health: HealthSources;
  trays: TrayService;
  findAccount: FindAccount;
  deposits: DepositService;
  pickups: PickupService;
  /** Ratings of a visit (`POST /api/ratings`); without it the route is not offered. */
  ratings?: RatingService;
  lookup: DossierLookup;
  sms: SmsService;
  /** The procedure catalogue for `GET /api/procedures`; without it the route is not offered. */
  procedures?: Procedure[];
  rounds?: RoundService;
  staffAccounts?: StaffAccountService;
  results?: ResultService;
  /** Trays to check (ADR 0012): the staff list and answers. */
  checks?: TrayChecks;
  /** Present only when the hardware driver is the simulator. */
  simulator?: SimulatorControls;
  /** The dashboard's figures and alarms; without it `/api/admin/stats` and `/alarms` are not offered. */
  stats?: StatsService;
  /** The audit chain; without it `/api/admin/audit/verify` is not offered. */
  audit?: AuditTrail;
  /** The retention purge (docs/retention.md); without it `/api/admin/retention` is not offered. */
  retention?: RetentionService;
  /** The store's classification of database errors that mean "down right now" (503, not 500). */
  dbUnavailable?: (err: unknown) => boolean;
  /** Where the built screens are (`dist/ui` by default). */
  uiDir?: string;
  /** The Prometheus figures (docs/metrics.md); without them `GET /metrics` is not offered. */
  metrics?: MetricsExposition;
  /** Fees and receipts (docs/payments.md); without them their routes are not offered. */
  payments?: PaymentHttp;
  /**
   * Citizen ID cards scanned at the kiosk (docs/id-card.md); without them their routes are not
   * offered. `simulated`: the simulated scanner (`POST /api/sim/id-card`); `holders`: the
   * depositors read from cards, on the staff's manifests.
   */
  idCards?: { scans: IdCardScans; simulated?: SimulatedCardScanner; holders?: RoundHolders };
}

export async function buildHttp(deps: HttpDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.bodyLimit,
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false } },
    return503OnClosing: true,
    schemaController: lazySchemaCompilers(),
  });
  installErrorHandling(app, { dbUnavailable: deps.dbUnavailable });
  // Every route as registered, for the test that holds them against the OpenAPI document.
  const routes: RegisteredRoute[] = [];
  app.decorate('registeredRoutes', routes);
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) {
      routes.push({ method, url: r.url, hidden: (r.schema as { hide?: boolean } | undefined)?.hide === true });
    }
  });
  if (deps.metrics) observeRequests(app, deps.metrics);
  const guards = await clientGuards(app, deps.clients);
  const auth = authHooks(deps.findAccount);
  await documentApi(app, { version: deps.version ?? '0.0.0' });
  documentAuth(app, errorSchema);
  // The API speaks JSON only: a text body is refused with 415 rather than parsed.
  app.removeContentTypeParser('text/plain');
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode >= 400) {
      request.log.info({ method: request.method, url: request.routeOptions.url, status: reply.statusCode }, 'request refused');
    }
  });
  await app.register(healthRoutes, { health: deps.health });
  await app.register(uiRoutes, { simulator: !!deps.simulator, dir: deps.uiDir });
  await app.register(trayRoutes, { trays: deps.trays, auth });
  if (deps.procedures) await app.register(procedureRoutes, { procedures: deps.procedures });
  await app.register(citizenRoutes, {
    deposits: deps.deposits,
    pickups: deps.pickups,
    lookup: deps.lookup,
    ratings: deps.ratings,
    guards,
    ...(deps.payments ? { paymentView: paymentViewer(deps.payments) } : {}),
  });
  if (deps.payments) await app.register(paymentRoutes, { payments: deps.payments, auth, guards, simulator: !!deps.simulator });
  await app.register(adminRoutes, { sms: deps.sms, auth, audit: deps.audit });
  if (deps.staffAccounts) {
    await app.register(staffAccountRoutes, { staff: deps.staffAccounts, auth, guards });
  }
  if (deps.rounds && deps.results) {
    await app.register(staffRoutes, {
      rounds: deps.rounds,
      results: deps.results,
      checks: deps.checks,
      auth,
      holders: deps.idCards?.holders,
    });
  }
  await app.register(dashboardRoutes, { trays: deps.trays, auth, stats: deps.stats });
  if (deps.retention) await app.register(retentionRoutes, { retention: deps.retention, auth });
  if (deps.simulator) await app.register(simulatorRoutes, { simulator: deps.simulator });
  if (deps.idCards) {
    const { scans, simulated } = deps.idCards;
    await app.register(idCardRoutes, { scans, guards, ...(simulated && deps.simulator ? { simulated } : {}) });
  }
  if (deps.metrics) await app.register(metricsRoutes, { metrics: deps.metrics, findAccount: deps.findAccount });
  return app;
}
