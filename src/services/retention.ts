/**
 * Personal data that expires (docs/retention.md): once a day, and when an admin asks, the phone
 * hashes and encrypted numbers of dossiers closed long enough ago are cleared, with their texts'
 * recipients; spent one-time-code challenges, code sends and phone guards are deleted, and so are
 * events published long enough ago and staff sessions long ended; old audit rows lose the personal
 * part kept outside their hash. One transaction does the purge and its audit row
 * (`retention.purged`: counts per table, never data), which is also what the admin screen shows.
 */
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { nextPurgeAt, purgeCutoffs, type RetentionPolicy } from '../domain/retention.js';
import type { AuditStore, Database, PurgeCounts, PurgeRecord, RetentionStore } from './ports.js';

export type { PurgeCounts } from './ports.js';

/** The settings as the configuration states them (shown on the admin screen and in the audit row). */
export interface RetentionSettings {
  closedDossierDays: number;
  challengeDays: number;
  sentEventDays: number;
  auditPersonalDays: number;
  endedSessionDays: number;
  runAt: string | null;
  timezone: string;
}

export interface PurgeRun {
  at: string;
  actor: string;
  counts: PurgeCounts;
}

/** What `GET /api/admin/retention` answers. */
export interface RetentionStatus {
  settings: RetentionSettings;
  nextRunAt: string;
  lastRun: PurgeRun | null;
}

export interface RetentionServiceDeps {
  db: Database;
  store: RetentionStore;
  audit: AuditStore;
  clock: Clock;
  logger: Logger;
  policy: RetentionPolicy;
  settings: RetentionSettings;
}

/** A first purge on a long-kept database may rewrite many rows: its statements get this long. */
const PURGE_STATEMENT_TIMEOUT_MS = 300_000;

const view = (r: PurgeRecord): PurgeRun => ({ at: r.at.toISOString(), actor: r.actor, counts: r.counts });

export class RetentionService {
  /** Without a purge on record, the first one is the first scheduled time after this. */
  private readonly since: Date;
  private nextAt: Date | null = null;
  private running: Promise<PurgeRun> | null = null;

  constructor(private readonly deps: RetentionServiceDeps) {
    this.since = deps.clock.now();
  }

  /** The timer's task: purges if the scheduled time has come (a missed one, after a restart, at once). */
  async tick(): Promise<PurgeRun | null> {
    const next = await this.next();
    if (this.deps.clock.now() < next) return null;
    return this.run('system');
  }

  /** Purges now; a purge already under way is awaited rather than doubled. */
  run(actor: string): Promise<PurgeRun> {
    this.running ??= this.purge(actor).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  async status(): Promise<RetentionStatus> {
    const last = await this.deps.store.lastRun(this.deps.db);
    const next = this.nextAt ?? nextPurgeAt(this.deps.policy, last?.at ?? this.since);
    return { settings: this.deps.settings, nextRunAt: next.toISOString(), lastRun: last && view(last) };
  }

  private async next(): Promise<Date> {
    if (!this.nextAt) {
      const last = await this.deps.store.lastRun(this.deps.db);
      this.nextAt = nextPurgeAt(this.deps.policy, last?.at ?? this.since);
    }
    return this.nextAt;
  }

  private async purge(actor: string): Promise<PurgeRun> {
    const { db, store, audit, clock, logger, policy, settings } = this.deps;
    const at = clock.now();
    const cutoffs = purgeCutoffs(policy, at);
    const counts = await db.tx(
      async (q) => {
        const counts = await store.purge(q, cutoffs);
        await audit.record(q, {
          actor,
          action: 'retention.purged',
          details: {
            counts,
            days: {
              closedDossier: settings.closedDossierDays,
              challenge: settings.challengeDays,
              sentEvent: settings.sentEventDays,
              auditPersonal: settings.auditPersonalDays,
              endedSession: settings.endedSessionDays,
            },
          },
          at,
        });
        return counts;
      },
      { statementTimeoutMs: PURGE_STATEMENT_TIMEOUT_MS },
    );
    this.nextAt = nextPurgeAt(policy, at);
    logger.info({ actor, counts, nextAt: this.nextAt }, 'personal data past its retention purged');
    return view({ at, actor, counts });
  }
}
