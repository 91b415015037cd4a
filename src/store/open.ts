/** Opens the configured database: a PostgreSQL server, or the embedded one under dataDir. */
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { createDb, type Db } from './db.js';
import { startEmbeddedPostgres } from './embedded.js';

export async function openDatabase(config: Config['database'], logger: Logger): Promise<Db> {
  const log = logger.child({ module: 'store' });
  if (config.url) return createDb({ connectionString: config.url, max: config.poolSize, logger: log });
  // A real PostgreSQL server of our own (docs/adr/0011-embedded-postgresql-server.md), with the
  // same pool size as a production server.
  const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, logger: log });
  return createDb({ connectionString: embedded.url, max: config.poolSize, logger: log, embedded, onClose: () => embedded.dispose() });
}
