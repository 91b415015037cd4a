/**
 * `npm run purge`: the retention purge (docs/retention.md) once, now, on DATABASE_URL (or the
 * embedded database while the daemon is stopped; while it runs, `POST /api/admin/retention/run`).
 * Part of the composition root: the same service, store and audit row as the daily timer.
 */
import { loadConfigOrExit } from './config/load.js';
import { durations } from './config/durations.js';
import { systemClock } from './domain/clock.js';
import { createLogger } from './log.js';
import { RetentionService } from './services/retention.js';
import { AuditRepository } from './store/audit.js';
import { migrate } from './store/migrate.js';
import { openDatabase } from './store/open.js';
import { RetentionRepository } from './store/retention.js';

const config = loadConfigOrExit();
const logger = createLogger({ level: config.log.level });
const db = await openDatabase(config.database, logger);
try {
  await migrate(db, logger.child({ module: 'migrate' }));
  const retention = new RetentionService({
    db,
    store: new RetentionRepository(config.locker.id),
    audit: new AuditRepository(config.locker.id),
    clock: systemClock,
    logger: logger.child({ module: 'retention' }),
    policy: durations(config).retention,
    settings: { ...config.retention, timezone: config.locker.timezone },
  });
  // The service logs the counts (and the audit log keeps them).
  await retention.run('cli (npm run purge)');
} finally {
  await db.close();
}
