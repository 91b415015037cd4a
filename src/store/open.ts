/** Opens the configured database: a PostgreSQL server, or the embedded one under dataDir. */
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { createDb, type Db } from './db.js';

export async function openDatabase(config: Config['database'], logger: Logger): Promise<Db> {
  const log = logger.child({ module: 'store' });
  const settings = {
    max: config.poolSize,
    connectTimeoutMs: config.connectTimeoutMs,
    statementTimeoutMs: config.statementTimeoutMs,
    healthTimeoutMs: config.healthTimeoutMs,
    logger: log,
  };
  if (config.url) return createDb({ connectionString: config.url, ...settings });
  // A real PostgreSQL server of our own (docs/adr/0011-embedded-postgresql-server.md): the same
  // pool size and timeouts as a production server.
  // Loaded only when it is used: an external database does not pay for the embedded server's code.
  const { startEmbeddedPostgres } = await import('./embedded.js');
  const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, logger: log });
  return createDb({ connectionString: embedded.url, ...settings, embedded, onClose: () => embedded.dispose() });
}
