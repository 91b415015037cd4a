/** `npm start`: loads the configuration, starts the controller, stops it on SIGTERM/SIGINT. */
import { loadCalendar } from './config/calendar.js';
import { codePolicyFigures } from './config/durations.js';
import { loadConfigOrExit } from './config/load.js';
import { otpViolations } from './domain/otp-figures.js';
import { Controller } from './controller.js';
import { createLogger } from './log.js';

const config = loadConfigOrExit();

const logger = createLogger({ level: config.log.level });
const controller = new Controller({ config, logger });

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
  await controller.stop();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled promise rejection'));

try {
  // The code policy's figures (docs/otp.md): a setting that misses a target is said at every start.
  const figures = codePolicyFigures(config, loadCalendar());
  for (const missed of otpViolations(figures)) logger.warn({ otp: figures }, `code policy target missed: ${missed}`);
  await controller.start();
  const address = await controller.listen();
  logger.info({ address }, `ATM 24/7 controller ready at ${address}`);
} catch (err) {
  logger.fatal({ err }, 'start failed');
  await controller.stop();
  process.exit(1);
}
