/**
 * The daemon, loaded by src/main.ts: loads the configuration, starts the controller, stops it on
 * SIGTERM/SIGINT. Under systemd (`Type=notify`, deploy/systemd/) it says READY=1 once `/health` answers, pets the watchdog while the door scan and the database are
 * alive, and says STOPPING=1 when it begins to stop.
 */
import { loadCalendar } from './config/calendar.js';
import { codePolicyFigures } from './config/durations.js';
import { loadConfigOrExit } from './config/load.js';
import { otpViolations } from './domain/otp-figures.js';
import { Controller } from './controller.js';
import { createLogger } from './log.js';
import { SystemdNotifier, SystemdWatchdog } from './systemd.js';

const config = loadConfigOrExit();

const logger = createLogger({ level: config.log.level });
let controller: Controller | undefined;
const notifier = new SystemdNotifier({ logger: logger.child({ module: 'systemd' }) });
let watchdog: SystemdWatchdog | undefined;

let shuttingDown = false;
async function shutdown(signal: string) {
  if (shuttingDown) return;
  shuttingDown = true;
  logger.info({ signal }, 'shutting down');
  const force = setTimeout(() => {
    logger.error('shutdown took too long; exiting');
    process.exit(1);
  }, 15_000);
  force.unref();
  watchdog?.stop();
  await notifier.send('STOPPING=1', `STATUS=stopping (${signal})`);
  await controller?.stop();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled promise rejection'));

try {
  // Loaded once: for the code policy's figures (docs/otp.md: a setting that misses a target is
  // said at every start) and for the flows. A bad calendar fails the start like any other.
  const calendar = loadCalendar();
  const figures = codePolicyFigures(config, calendar);
  for (const missed of otpViolations(figures)) logger.warn({ otp: figures }, `code policy target missed: ${missed}`);
  controller = new Controller({ config, logger, calendar });
  await controller.start();
  const address = await controller.listen();
  logger.info({ address }, `ATM 24/7 controller ready at ${address}`);
  if (notifier.enabled) await announceReady(controller);
} catch (err) {
  logger.fatal({ err }, 'start failed');
  await notifier.send(`STATUS=start failed: ${(err as Error).message}`);
  await controller?.stop();
  process.exit(1);
}

/** READY=1 once `/health` answers, with its verdict as the unit's status; then the watchdog. */
async function announceReady(controller: Controller): Promise<void> {
  const response = await controller.http.inject({ method: 'GET', url: '/health' });
  await notifier.send('READY=1', `STATUS=${healthStatusLine(response.statusCode, response.json())}`);
  const intervalMs = notifier.watchdogIntervalMs();
  if (intervalMs === undefined) return;
  watchdog = new SystemdWatchdog({
    notifier,
    intervalMs,
    logger: logger.child({ module: 'watchdog' }),
    probe: { db: () => controller.database.ping(), bus: controller.lockBus },
  });
  watchdog.start();
}

/** `systemctl status` shows this: "health ok" or what is degraded and why. */
function healthStatusLine(statusCode: number, health: Record<string, unknown>): string {
  if (statusCode !== 200) return `health answered ${statusCode}`;
  if (health.status === 'ok') return 'health ok';
  const parts = ['db', 'mqtt', 'bus', 'sms']
    .filter((part) => health[part] !== undefined && health[part] !== 'ok')
    .map((part) => `${part} ${String(health[part])}`);
  const problems = Array.isArray(health.busErrors) ? health.busErrors.map(String) : [];
  return `health degraded: ${[...parts, ...problems].join('; ')}`;
}
