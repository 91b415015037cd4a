/**
 * Part of the composition root (with controller.ts): the units that keep the records honest over
 * time — the audit chain, whose head is published every `mqtt.auditHeadSec`, and the daily purge
 * of personal data (docs/retention.md) — each with its timer.
 */
import type { Logger } from 'pino';
import type { durations } from './config/durations.js';
import type { Config } from './config/types.js';
import type { Clock } from './domain/clock.js';
import { RetainedAuditHead } from './events/audit-head.js';
import type { EventsUnit } from './events/index.js';
import { AuditTrail } from './services/audit-trail.js';
import { FlowTimers } from './services/flow-timers.js';
import { RetentionService } from './services/retention.js';
import { AuditChainRepository } from './store/audit-chain.js';
import type { AuditRepository } from './store/audit.js';
import type { Db } from './store/db.js';
import { RetentionRepository } from './store/retention.js';

/** How often the retention timer looks whether the daily purge is due. */
const RETENTION_CHECK_MS = 60_000;

export interface RecordUnits {
  retention: RetentionService;
  retentionTimers: FlowTimers;
  auditTrail: AuditTrail;
  auditTimer: FlowTimers;
}

export function composeRecords(u: {
  config: Config;
  db: Db;
  events: EventsUnit;
  audit: AuditRepository;
  clock: Clock;
  ms: ReturnType<typeof durations>;
  log: (module: string) => Logger;
}): RecordUnits {
  const { config, db, events, audit, clock, ms, log } = u;
  const lockerId = config.locker.id;
  const retention = new RetentionService({
    db,
    store: new RetentionRepository(lockerId),
    audit,
    clock,
    logger: log('retention'),
    policy: ms.retention,
    settings: { ...config.retention, timezone: config.locker.timezone },
  });
  const retentionTimers = new FlowTimers({
    tasks: [{ name: 'retention', run: () => retention.tick() }],
    intervalMs: RETENTION_CHECK_MS,
    logger: log('timers'),
  });
  const auditTrail = new AuditTrail({
    db,
    chain: new AuditChainRepository(lockerId),
    publisher: new RetainedAuditHead(() => events.retained),
    clock,
    logger: log('audit'),
  });
  const auditTimer = new FlowTimers({
    tasks: [{ name: 'audit head', run: () => auditTrail.publishHead() }],
    intervalMs: (config.mqtt.auditHeadSec ?? 300) * 1000,
    logger: log('timers'),
  });
  return { retention, retentionTimers, auditTrail, auditTimer };
}
