/** Opens the configured database: a PostgreSQL server, or the embedded one under dataDir. */
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { createDb, type Db } from './db.js';
import { startEmbeddedPostgres } from './embedded.js';

/**
 * PGlite is one Postgres session: pglite-socket multiplexes connections onto it, but interleaved
 * extended-protocol messages from several connections under load can wedge its queue (seen with
 * 50 deposits at once). One connection serialises everything, which a locker's load (a few
 * dossiers an hour) never notices. See docs/adr/0007-embedded-postgres-one-connection.md.
 */
export const EMBEDDED_POOL_SIZE = 1;

export async function openDatabase(config: Config['database'], logger: Logger): Promise<Db> {
  const log = logger.child({ module: 'store' });
  if (config.url) {
    return createDb({ connectionString: config.url, max: config.poolSize, logger: log });
  }
  const embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, logger: log });
  return createDb({
    connectionString: embedded.url,
    max: EMBEDDED_POOL_SIZE,
    logger: log,
    onClose: () => embedded.stop(),
  });
}
