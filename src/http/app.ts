/**
 * The HTTP face of the controller. Fastify with strict JSON schemas: no type coercion and no
 * silent removal of unknown fields, so wrong types and extra fields are refused with 400.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { TrayService } from '../services/trays.js';
import type { FindAccount } from './auth.js';
import { installErrorHandling } from './errors.js';
import { healthRoutes, type HealthSources } from './routes/health.js';
import { homeRoutes } from './routes/home.js';
import { simulatorRoutes, type SimulatorControls } from './routes/simulator.js';
import { trayRoutes } from './routes/trays.js';

export interface HttpDeps {
  logger: Logger;
  bodyLimit: number;
  lockerName: string;
  health: HealthSources;
  trays: TrayService;
  findAccount: FindAccount;
  /** Present only when the hardware driver is the simulator. */
  simulator?: SimulatorControls;
}

export async function buildHttp(deps: HttpDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.bodyLimit,
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false } },
    return503OnClosing: true,
  });
  installErrorHandling(app);
  // The API speaks JSON only: a text body is refused with 415 rather than parsed.
  app.removeContentTypeParser('text/plain');
  app.addHook('onResponse', async (request, reply) => {
    if (reply.statusCode >= 400) {
      request.log.info({ method: request.method, url: request.routeOptions.url, status: reply.statusCode }, 'request refused');
    }
  });
  await app.register(healthRoutes, { health: deps.health });
  await app.register(homeRoutes, { lockerName: deps.lockerName, simulator: !!deps.simulator });
  await app.register(trayRoutes, { trays: deps.trays, findAccount: deps.findAccount });
  if (deps.simulator) await app.register(simulatorRoutes, { simulator: deps.simulator });
  return app;
}
