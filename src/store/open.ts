/** Opens the configured database: a PostgreSQL server, or the embedded one under dataDir. */
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { createDb, type Db } from './db.js';
import { startEmbeddedPostgres } from './embedded.js';

export async function openDatabase(config: Config['database'], logger: Logger): Promise<Db> {
  const log = logger.child({ module: 'store' });
  if (config.url) {
    return createDb({ connectionString: config.url, max: config.poolSize, logger: log });
  }
  const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, logger: log });
  return createDb({
    connectionString: embedded.url,
    max: Math.min(config.poolSize, 8),
    logger: log,
    onClose: () => embedded.stop(),
  });
}
