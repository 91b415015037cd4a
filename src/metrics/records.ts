/**
 * What the database says, read at scrape time: trays by state, doors whose held-open alarm
 * stands, and the outbox (events not yet published, and how long the oldest has waited). Two cheap
 * statements, bounded in time: a database that is down or slow leaves these series out of the
 * scrape and `atm247_database_up` at 0, and the scrape still answers.
 */
import { Gauge, type Registry } from 'prom-client';
import { countByState, DISPLAY_STATES, type TrayContent, type TrayDisplayState } from '../domain/tray.js';
import type { Queryable } from '../services/ports.js';

export interface RecordSources {
  lockerId: string;
  db: Queryable;
  /** How long a scrape waits for the database, ms. */
  timeoutMs: number;
}

interface RecordsSample {
  trays: Record<TrayDisplayState, number>;
  heldOpen: number;
  outboxPending: number;
  outboxOldestAgeSec: number;
}

export class RecordMetrics {
  /** The reading in progress: every series of one scrape shares it. */
  private reading: Promise<RecordsSample | null> | null = null;

  constructor(
    registry: Registry,
    private readonly sources: RecordSources,
  ) {
    const registers = [registry];
    const up: Gauge = new Gauge({
      name: 'atm247_database_up',
      help: '1 when the database answered the figures of this scrape in time, 0 when it did not (they are then absent).',
      registers,
      collect: async () => {
        up.set((await this.sample()) ? 1 : 0);
      },
    });
    this.sampled(registers, 'atm247_trays', 'Trays by state (free, reserved, holding_deposit, holding_result, to_check, out_of_service).', {
      labelNames: ['state'],
      set: (gauge, s) => {
        for (const state of DISPLAY_STATES) gauge.set({ state }, s.trays[state]);
      },
    });
    this.sampled(registers, 'atm247_doors_held_open', 'Doors whose held-open alarm was raised and that are still recorded open.', {
      set: (gauge, s) => gauge.set(s.heldOpen),
    });
    this.sampled(registers, 'atm247_outbox_pending', 'Events in the outbox not yet published to MQTT.', {
      set: (gauge, s) => gauge.set(s.outboxPending),
    });
    this.sampled(registers, 'atm247_outbox_oldest_age_seconds', 'Age of the oldest event not yet published (0 when none waits).', {
      set: (gauge, s) => gauge.set(s.outboxOldestAgeSec),
    });
  }

  /** A gauge filled from the scrape's sample, absent when the database did not answer. */
  private sampled(
    registers: Registry[],
    name: string,
    help: string,
    opts: { labelNames?: string[]; set: (gauge: Gauge<string>, sample: RecordsSample) => void },
  ): void {
    const gauge: Gauge<string> = new Gauge({
      name,
      help,
      labelNames: opts.labelNames ?? [],
      registers,
      collect: async () => {
        const sample = await this.sample();
        gauge.reset();
        if (sample) opts.set(gauge, sample);
        // A gauge without labels keeps a 0 after reset(): removed, so that it is absent, not wrong.
        else gauge.remove({});
      },
    });
  }

  private sample(): Promise<RecordsSample | null> {
    this.reading ??= this.read().finally(() => {
      this.reading = null;
    });
    return this.reading;
  }

  private async read(): Promise<RecordsSample | null> {
    const { db, lockerId, timeoutMs } = this.sources;
    const trays = db.query<{ content: TrayContent; disabled_reason: string | null; fault: string | null; held_open: boolean }>(
      `SELECT content, disabled_reason, fault, held_open_alarm_at IS NOT NULL AS held_open FROM trays WHERE locker_id = $1`,
      [lockerId],
    );
    // The outbox's clock is the database's (created_at defaults to now()), and so is the age.
    const outbox = db.query<{ pending: number; oldest_age_sec: number }>(
      `SELECT count(*)::int AS pending, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS oldest_age_sec
       FROM outbox WHERE sent_at IS NULL AND locker_id = $1`,
      [lockerId],
    );
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    try {
      const answered = await Promise.race([Promise.all([trays, outbox]), late]);
      if (!answered) return null;
      const [{ rows: trayRows }, { rows: outboxRows }] = answered;
      const byState = countByState(trayRows.map((r) => ({ content: r.content, disabledReason: r.disabled_reason, fault: r.fault })));
      return {
        trays: byState,
        heldOpen: trayRows.filter((r) => r.held_open).length,
        outboxPending: outboxRows[0].pending,
        outboxOldestAgeSec: Math.max(0, outboxRows[0].oldest_age_sec),
      };
    } catch {
      return null;
    } finally {
      // A statement that answers after the deadline is of no more interest (its failure is handled by the race).
      clearTimeout(timer);
    }
  }
}
