/** `npm run migrate`: applies pending migrations to DATABASE_URL (or the embedded database). */
import { loadConfig } from '../config/load.js';
import { createLogger } from '../log.js';
import { openDatabase } from './open.js';
import { migrate } from './migrate.js';

const config = loadConfig();
const logger = createLogger({ level: config.log.level });
const db = await openDatabase(config.database, logger);
try {
  const applied = await migrate(db, logger);
  logger.info({ applied, target: db.target }, applied.length ? 'migrations applied' : 'database already up to date');
} finally {
  await db.close();
}
