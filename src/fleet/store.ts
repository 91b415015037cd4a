/**
 * The fleet service's database (migrations/fleet/): every locker's last published state and the
 * events the lockers sent. Writes are idempotent: an event is stored once by its id, however often
 * the broker delivers it (QoS 1 is at least once, and a message is delivered again when an
 * instance dies before acknowledging it); a state payload replaces the stored one only if it is
 * not older (two instances may receive the same retained state in either order).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { EventType, OccupancyPayload, PublishedTrayState, RoundNextPayload, TrayPayload } from '../domain/events.js';
import type { Door } from '../domain/tray.js';
import type { FleetAlarm, FleetSite } from '../domain/api-fleet.js';
import { PACKAGE_ROOT } from '../config/package-root.js';

export const FLEET_MIGRATIONS_DIR = path.join(PACKAGE_ROOT, 'migrations', 'fleet');

export interface LockerRow {
  lockerId: string;
  site: FleetSite | null;
  online: boolean | null;
  availabilityAt: string | null;
  occupancy: OccupancyPayload | null;
  roundNext: RoundNextPayload | null;
  lastEventType: string | null;
  lastEventAt: string | null;
  /** null: registered (a site), never heard from. */
  updatedAt: string | null;
}

/** Which lockers: by place, or by id (the live stream's changed ones). */
export interface LockerFilter {
  district?: string;
  ward?: string;
  ids?: string[];
}

/** How long a session may sit idle inside a transaction before PostgreSQL ends it (see the pool). */
export const DEFAULT_IDLE_IN_TRANSACTION_MS = 5_000;

/** The channel every instance listens on (src/fleet/changes.ts): the payload is a locker id. */
export const CHANGES_CHANNEL = 'fleet_changes';

/**
 * Alarms and what clears them: the same tray's door closing, the same board answering again. An ID
 * card held for the counter (ADR 0028) stays locked in its tray until an officer opens it (an
 * admin's maintenance, the round after its pickup window): that tray's door closing clears it too.
 */
const ALARM_TYPES = ['alarm.door_open_unexpected', 'alarm.door_held_open', 'alarm.pickup_identity_held', 'board.fault'];
/** How far back an alarm not cleared is still shown. */
const ALARM_DAYS = 7;

export interface FleetTray {
  number: number;
  cabinet: string | null;
  size: string | null;
  state: string;
  door: string;
  at: string;
}

export interface FleetEventRow {
  id: string;
  lockerId: string;
  type: string;
  at: string;
  data: unknown;
}

/** What one message gives to store (src/fleet/ingest.ts reads and checks it first). */
export type FleetWrite =
  | { kind: 'availability'; lockerId: string; online: boolean }
  | { kind: 'occupancy'; lockerId: string; value: OccupancyPayload }
  | { kind: 'tray'; lockerId: string; value: TrayPayload }
  | { kind: 'round'; lockerId: string; value: RoundNextPayload }
  | FleetWriteEvent;

export interface FleetWriteEvent {
  kind: 'event';
  lockerId: string;
  event: { id: string; type: EventType; at: string; data: unknown };
}

export interface WriteResult {
  /** Events of the batch stored already (before, or earlier in the same batch). */
  duplicates: number;
  /** State payloads not written: the stored one is newer, or the same (another instance's copy). */
  superseded: number;
}

const trayRow = (lockerId: string, t: TrayPayload) => ({
  locker_id: lockerId,
  tray: t.number,
  cabinet: t.cabinet,
  size: t.size,
  state: t.state,
  door: t.door,
  at: t.at,
});

const iso = (v: Date | null): string | null => (v ? v.toISOString() : null);

/**
 * A locker's trays as `occupancy` gives them, kept as one short text (migration 006, ADR 0030):
 * `<number><state><door>` per tray, in the payload's order, joined by commas.
 */
const STATE_CODES: Record<PublishedTrayState, string> = {
  free: 'f',
  reserved: 'r',
  holding_deposit: 'd',
  holding_result: 'h',
  to_check: 'c',
  out_of_service: 'o',
};
const DOOR_CODES: Record<Door, string> = { open: 'o', closed: 'c', unknown: 'u' };
const STATES_BY_CODE = new Map(Object.entries(STATE_CODES).map(([state, code]) => [code, state as PublishedTrayState]));
const DOORS_BY_CODE = new Map(Object.entries(DOOR_CODES).map(([door, code]) => [code, door as Door]));

export function encodeOccupancyTrays(trays: OccupancyPayload['trays']): string {
  return trays.map((t) => `${t.number}${STATE_CODES[t.state]}${DOOR_CODES[t.door]}`).join(',');
}

export function decodeOccupancyTrays(text: string): OccupancyPayload['trays'] {
  if (text === '') return [];
  return text.split(',').map((entry) => {
    const state = STATES_BY_CODE.get(entry.charAt(entry.length - 2));
    const door = DOORS_BY_CODE.get(entry.charAt(entry.length - 1));
    const digits = entry.slice(0, -2);
    if (!state || !door || !/^\d+$/.test(digits)) throw new Error(`fleet_lockers.occupancy_trays: "${entry}" is not a tray`);
    return { number: Number(digits), state, door };
  });
}

export class FleetStore {
  readonly pool: pg.Pool;

  constructor(url: string, options: { poolSize?: number; idleInTransactionMs?: number } = {}) {
    // A database that stops answering makes requests fail (503) and messages wait, instead of hanging.
    this.pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize ?? 5,
      connectionTimeoutMillis: 5_000,
      query_timeout: 15_000,
      // An instance that hangs in the middle of a batch (stopped, frozen) would hold its lockers'
      // rows locked for as long as its connection stays open, and every other instance's batches
      // touching them would wait behind it: the fleet's whole ingest stalled by one hung process.
      // PostgreSQL ends a session idle inside a transaction after this (its batch rolls back, its
      // messages were never acknowledged). A live batch sends its statements back to back.
      idle_in_transaction_session_timeout: options.idleInTransactionMs ?? DEFAULT_IDLE_IN_TRANSACTION_MS,
      // No JIT compiling (ADR 0032): the ingest's and the live stream's statements touch rows by
      // key, but a table bloated by a burst's updates made the planner's estimates big enough to
      // compile the dashboard's list (a server built with LLVM, as Debian's is), 200–300 ms each
      // time against a few ms for the statement itself. PGOPTIONS is kept, after this (a `-c
      // jit=on` there wins); a connection string with its own `options` replaces both (pg's rule).
      options: ['-c jit=off', process.env.PGOPTIONS].filter(Boolean).join(' '),
    });
    this.pool.on('error', () => undefined); // an idle client lost: the next query reconnects
    // A client in use whose session ends between two statements (the limit above, a restart)
    // says so by an event with nobody listening, which would end the process: its next statement
    // fails instead, and the pool drops it when it is released.
    this.pool.on('connect', (client) => client.on('error', () => undefined));
  }

  /** Applies the fleet's migrations, in order, each once (its own table: the database may be shared). */
  async migrate(dir = FLEET_MIGRATIONS_DIR): Promise<string[]> {
    const files = readdirSync(dir)
      .filter((f) => /^\d{3,}_[\w-]+\.sql$/.test(f))
      .sort();
    const client = await this.pool.connect();
    const applied: string[] = [];
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(247248)');
      await client.query(
        'CREATE TABLE IF NOT EXISTS fleet_schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
      );
      const done = new Set((await client.query<{ name: string }>('SELECT name FROM fleet_schema_migrations')).rows.map((r) => r.name));
      for (const file of files) {
        if (done.has(file)) continue;
        await client.query(readFileSync(path.join(dir, file), 'utf8'));
        await client.query('INSERT INTO fleet_schema_migrations (name) VALUES ($1)', [file]);
        applied.push(file);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    return applied;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  async ping(): Promise<boolean> {
    try {
      await this.pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Stores what a batch of messages holds, in one transaction with one notification per changed
   * locker (sent at commit): nine statements at most, however many messages. Each write is applied
   * as it would be alone, in order: a state payload replaces the stored one unless that one is
   * newer (of two equally new, the later in the batch; the same payload again, as every instance
   * receives it, changes nothing and notifies no one), an event is stored once by its id.
   * Rejects as a whole; the caller tells a database away from a write refused for what it holds.
   */
  async write(writes: FleetWrite[]): Promise<WriteResult> {
    // What one statement may touch once: the latest of each locker's availability, occupancy and
    // next round, of each tray, of each event id (a second is a duplicate). Arrival order breaks ties.
    const latest = <T extends { at: string }>(map: Map<string, T & { n: number }>, key: string, value: T, n: number) => {
      const held = map.get(key);
      if (!held || Date.parse(held.at) <= Date.parse(value.at)) map.set(key, { ...value, n });
    };
    const availability = new Map<string, boolean>();
    const occupancy = new Map<string, { locker_id: string; counts: OccupancyPayload['counts']; trays: string; at: string; n: number }>();
    const trays = new Map<string, ReturnType<typeof trayRow> & { n: number }>();
    const rounds = new Map<string, { locker_id: string; payload: RoundNextPayload; at: string; n: number }>();
    const events = new Map<string, { id: string; locker_id: string; type: string; at: string; data: unknown; n: number }>();
    let duplicates = 0;
    writes.forEach((w, n) => {
      if (w.kind === 'availability') {
        availability.delete(w.lockerId); // the last one received wins: it has no time of its own
        availability.set(w.lockerId, w.online);
      } else if (w.kind === 'occupancy') {
        const { counts, trays, at } = w.value;
        latest(occupancy, w.lockerId, { locker_id: w.lockerId, counts, trays: encodeOccupancyTrays(trays), at }, n);
      } else if (w.kind === 'tray') latest(trays, `${w.lockerId}/${w.value.number}`, trayRow(w.lockerId, w.value), n);
      else if (w.kind === 'round') latest(rounds, w.lockerId, { locker_id: w.lockerId, payload: w.value, at: w.value.at }, n);
      else {
        const id = w.event.id.toLowerCase(); // as PostgreSQL compares uuids
        if (events.has(id)) duplicates += 1;
        else events.set(id, { id, locker_id: w.lockerId, type: w.event.type, at: w.event.at, data: w.event.data, n });
      }
    });
    // In key order, as every row lock of the batch is taken (see below).
    const json = <T>(map: Map<string, T>) => JSON.stringify([...map.keys()].sort().map((key) => map.get(key)));
    const changed = new Set<string>(availability.keys());
    const note = (rows: { locker_id: string }[]) => rows.forEach((r) => changed.add(r.locker_id));

    // Every instance receives every state message (src/fleet/ingest.ts): the copy another instance
    // has stored already is dropped here, on a read that locks nothing, instead of waiting in the
    // transaction for that instance's row locks to find the same (ADR 0031). Stored state only
    // moves forward (or, at the same moment, to another payload of that moment: of those, which
    // is last is arbitrary anyway), so what supersedes a write now still does at the commit; a
    // copy read here before the other instance committed is written as before, and changes nothing.
    const superseded = await this.superseded(occupancy, rounds, trays);
    for (const [kind, key] of superseded) (kind === 'o' ? occupancy : kind === 'r' ? rounds : trays).delete(key);
    // The lockers whose rows this batch changes: its state's. An event is only added beside its
    // locker's row (its last event is read from the events, ADR 0031), so the events of a burst,
    // which the instances share, do not queue on the rows the state locks.
    const lockers = new Set<string>([
      ...availability.keys(),
      ...occupancy.keys(),
      ...rounds.keys(),
      ...[...trays.values()].map((t) => t.locker_id),
    ]);
    const named = new Set<string>([...lockers, ...[...events.values()].map((e) => e.locker_id)]);
    if (named.size === 0) return { duplicates, superseded: superseded.length };

    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // Every instance writes the state messages it did not find stored: two batches touching the
      // same lockers would deadlock if each locked their rows in its own order. Each locks its
      // state's lockers' rows first, in id order; every other row it changes belongs to one of
      // them. An event's insert takes only a key-share lock on its locker's row (the foreign key),
      // which these locks do not conflict with. Only the lockers not stored yet are inserted: an
      // insert that meets an existing row another transaction has updated waits for its commit,
      // even with DO NOTHING.
      await client.query(
        `INSERT INTO fleet_lockers (locker_id)
         SELECT id FROM unnest($1::text[]) AS id WHERE NOT EXISTS (SELECT 1 FROM fleet_lockers x WHERE x.locker_id = id)
          ORDER BY 1 ON CONFLICT DO NOTHING`,
        [[...named].sort()],
      );
      if (lockers.size) {
        await client.query('SELECT 1 FROM fleet_lockers WHERE locker_id = ANY($1::text[]) ORDER BY locker_id FOR NO KEY UPDATE', [
          [...lockers].sort(),
        ]);
      }
      if (availability.size) {
        await client.query(
          `UPDATE fleet_lockers l SET online = v.online, availability_at = now(), updated_at = now()
             FROM unnest($1::text[], $2::boolean[]) AS v(locker_id, online) WHERE l.locker_id = v.locker_id`,
          [[...availability.keys()], [...availability.values()]],
        );
      }
      if (trays.size) {
        const { rows } = await client.query<{ locker_id: string }>(
          `INSERT INTO fleet_trays (locker_id, tray, cabinet, size, state, door, at)
           SELECT locker_id, tray, cabinet, size, state, door, at
             FROM jsonb_to_recordset($1::jsonb) AS v(locker_id text, tray int, cabinet text, size text, state text, door text, at timestamptz)
           ON CONFLICT (locker_id, tray) DO UPDATE SET cabinet = EXCLUDED.cabinet, size = EXCLUDED.size, state = EXCLUDED.state,
             door = EXCLUDED.door, at = EXCLUDED.at
           WHERE fleet_trays.at < EXCLUDED.at OR (fleet_trays.at = EXCLUDED.at
             AND (fleet_trays.cabinet, fleet_trays.size, fleet_trays.state, fleet_trays.door)
                 IS DISTINCT FROM (EXCLUDED.cabinet, EXCLUDED.size, EXCLUDED.state, EXCLUDED.door))
           RETURNING locker_id`,
          [json(trays)],
        );
        note(rows);
      }
      // The occupancy and the next round, unless a newer one is stored. The occupancy's trays are
      // not copied to fleet_trays (90 rows a locker at each change, the whole cost of a round's
      // burst): a locker's grid is read from both, each tray from whichever is newer (`locker`).
      // They are kept as one short text (ADR 0030): the 4.8 kB JSON payload made this statement
      // most of a burst's cost.
      if (occupancy.size) {
        const { rows } = await client.query<{ locker_id: string }>(
          `UPDATE fleet_lockers l SET occupancy_counts = v.counts, occupancy_trays = v.trays, occupancy_at = v.at, updated_at = now()
             FROM jsonb_to_recordset($1::jsonb) AS v(locker_id text, counts jsonb, trays text, at timestamptz)
            WHERE l.locker_id = v.locker_id
              AND (l.occupancy_at IS NULL OR l.occupancy_at < v.at
                   OR (l.occupancy_at = v.at AND (l.occupancy_counts, l.occupancy_trays) IS DISTINCT FROM (v.counts, v.trays)))
           RETURNING l.locker_id`,
          [json(occupancy)],
        );
        note(rows);
      }
      if (rounds.size) {
        const { rows } = await client.query<{ locker_id: string }>(
          `UPDATE fleet_lockers l SET round_next = v.payload, round_next_at = v.at, updated_at = now()
             FROM jsonb_to_recordset($1::jsonb) AS v(locker_id text, payload jsonb, at timestamptz)
            WHERE l.locker_id = v.locker_id
              AND (l.round_next_at IS NULL OR l.round_next_at < v.at OR (l.round_next_at = v.at AND l.round_next IS DISTINCT FROM v.payload))
           RETURNING l.locker_id`,
          [json(rounds)],
        );
        note(rows);
      }
      if (events.size) {
        const { rows } = await client.query<{ locker_id: string }>(
          `WITH v AS (
             SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(id uuid, locker_id text, type text, at timestamptz, data jsonb, n int)
           ), e AS (
             -- In id order, as before (two instances inserting the same ids in different orders
             -- would deadlock on them). Received in arrival order: of two events at the same moment,
             -- the later received is the locker's last (read by lockers()), within a batch too.
             INSERT INTO fleet_events (id, locker_id, type, at, data, received_at)
             SELECT id, locker_id, type, at, data, now() + n * interval '1 microsecond' FROM v
             ON CONFLICT (id) DO NOTHING RETURNING id
           )
           SELECT v.locker_id FROM v JOIN e USING (id)`,
          [json(events)],
        );
        duplicates += events.size - rows.length;
        note(rows);
      }
      if (changed.size) await client.query('SELECT pg_notify($1, id) FROM unnest($2::text[]) AS id', [CHANGES_CHANNEL, [...changed]]);
      await client.query('COMMIT');
      return { duplicates, superseded: superseded.length };
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /**
   * The batch's state payloads that the stored state already supersedes: newer, or as new and the
   * same (each the negation of its write's condition in `write`). `[kind, key]`: `o` occupancy and
   * `r` next round by locker id, `t` tray by `<locker id>/<number>`. One read, no lock.
   */
  private async superseded(
    occupancy: Map<string, { locker_id: string }>,
    rounds: Map<string, { locker_id: string }>,
    trays: Map<string, { locker_id: string }>,
  ): Promise<[string, string][]> {
    if (occupancy.size + rounds.size + trays.size === 0) return [];
    // Each payload meets its stored row by its primary key (a lateral lookup: the planner cannot
    // turn it into a hash join over the whole table, as it did over the 45,000 trays of 500
    // lockers for a batch holding one tray, its estimate of a JSON array's rows being a blind 100).
    const { rows } = await this.pool.query<{ kind: string; key: string }>(
      `SELECT 'o' AS kind, o.locker_id AS key
         FROM jsonb_to_recordset($1::jsonb) AS o(locker_id text, counts jsonb, trays text, at timestamptz)
         CROSS JOIN LATERAL (SELECT occupancy_at, occupancy_counts, occupancy_trays FROM fleet_lockers
                              WHERE locker_id = o.locker_id LIMIT 1) l
        WHERE l.occupancy_at > o.at
           OR (l.occupancy_at = o.at AND (l.occupancy_counts, l.occupancy_trays) IS NOT DISTINCT FROM (o.counts, o.trays))
       UNION ALL
       SELECT 'r', r.locker_id
         FROM jsonb_to_recordset($2::jsonb) AS r(locker_id text, payload jsonb, at timestamptz)
         CROSS JOIN LATERAL (SELECT round_next_at, round_next FROM fleet_lockers WHERE locker_id = r.locker_id LIMIT 1) l
        WHERE l.round_next_at > r.at OR (l.round_next_at = r.at AND l.round_next IS NOT DISTINCT FROM r.payload)
       UNION ALL
       SELECT 't', t.locker_id || '/' || t.tray
         FROM jsonb_to_recordset($3::jsonb) AS t(locker_id text, tray int, cabinet text, size text, state text, door text, at timestamptz)
         CROSS JOIN LATERAL (SELECT at, cabinet, size, state, door FROM fleet_trays
                              WHERE locker_id = t.locker_id AND tray = t.tray LIMIT 1) f
        WHERE f.at > t.at OR (f.at = t.at
          AND (f.cabinet, f.size, f.state, f.door) IS NOT DISTINCT FROM (t.cabinet, t.size, t.state, t.door))`,
      [JSON.stringify([...occupancy.values()]), JSON.stringify([...rounds.values()]), JSON.stringify([...trays.values()])],
    );
    return rows.map((r) => [r.kind, r.key]);
  }

  /** Stores one event (as `write` does); false when it was stored already. */
  async addEvent(lockerId: string, event: FleetWriteEvent['event']): Promise<boolean> {
    return (await this.write([{ kind: 'event', lockerId, event }])).duplicates === 0;
  }

  /** Every locker heard from or registered, in id order, with its site. */
  async lockers(filter: LockerFilter = {}): Promise<LockerRow[]> {
    // Each locker's last event found by the events' index (locker, at): the ingest does not write it on the row (ADR 0031).
    const { rows } = await this.pool.query(
      // The ids asked for (the live stream's changed lockers) are looked up by key in both tables,
      // not filtered out of a join of the whole of both.
      `WITH k AS (
         SELECT locker_id FROM fleet_lockers WHERE $3::text[] IS NULL OR locker_id = ANY($3)
         UNION
         SELECT locker_id FROM fleet_sites WHERE $3::text[] IS NULL OR locker_id = ANY($3)
       )
       SELECT l.*, k.locker_id AS id, s.name AS site_name, s.district, s.ward, s.address,
              e.type AS last_event_type, e.at AS last_event_at, GREATEST(l.updated_at, e.received_at) AS heard_at
         FROM k LEFT JOIN fleet_lockers l ON l.locker_id = k.locker_id
         LEFT JOIN fleet_sites s ON s.locker_id = k.locker_id
         LEFT JOIN LATERAL (
           SELECT type, at, received_at FROM fleet_events
            WHERE locker_id = k.locker_id ORDER BY at DESC, received_at DESC, id DESC LIMIT 1
         ) e ON true
        WHERE ($1::text IS NULL OR s.district = $1) AND ($2::text IS NULL OR s.ward = $2)
        ORDER BY id`,
      [filter.district ?? null, filter.ward ?? null, filter.ids ?? null],
    );
    return rows.map(toLocker);
  }

  /**
   * One locker with its trays: each from the newer of its own `trays/<n>` (which alone says its
   * cabinet and size) and the locker's `occupancy` (of two equally new, `trays/<n>`).
   */
  async locker(lockerId: string): Promise<(LockerRow & { trays: FleetTray[] }) | null> {
    const [row] = await this.lockers({ ids: [lockerId] });
    if (!row) return null;
    const { rows } = await this.pool.query<{
      tray: number;
      cabinet: string | null;
      size: string | null;
      state: string;
      door: string;
      at: Date;
    }>('SELECT tray, cabinet, size, state, door, at FROM fleet_trays WHERE locker_id = $1', [lockerId]);
    const trays = new Map<number, FleetTray>(
      rows.map((r) => [r.tray, { number: r.tray, cabinet: r.cabinet, size: r.size, state: r.state, door: r.door, at: r.at.toISOString() }]),
    );
    const occupancy = row.occupancy;
    if (occupancy) {
      const at = Date.parse(occupancy.at);
      const atIso = new Date(at).toISOString();
      for (const t of occupancy.trays) {
        const own = trays.get(t.number);
        if (own && Date.parse(own.at) >= at) continue;
        trays.set(t.number, {
          number: t.number,
          cabinet: own?.cabinet ?? null,
          size: own?.size ?? null,
          state: t.state,
          door: t.door,
          at: atIso,
        });
      }
    }
    return { ...row, trays: [...trays.values()].sort((a, b) => a.number - b.number) };
  }

  /** Registers or moves a locker; returns whether it was new. */
  async setSite(lockerId: string, site: FleetSite): Promise<boolean> {
    const { rows } = await this.pool.query<{ inserted: boolean }>(
      `INSERT INTO fleet_sites (locker_id, name, district, ward, address) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (locker_id) DO UPDATE SET name = EXCLUDED.name, district = EXCLUDED.district, ward = EXCLUDED.ward,
         address = EXCLUDED.address, updated_at = now()
       RETURNING (xmax = 0) AS inserted`,
      [lockerId, site.name.trim(), site.district.trim(), site.ward.trim(), site.address?.trim() || null],
    );
    await this.pool.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, lockerId]);
    return rows[0].inserted;
  }

  /**
   * The alarms not cleared since (of the last ALARM_DAYS days), newest first: a door opened unasked
   * or held open, or an ID card held in its tray, until that tray's door closes; a board fault,
   * until that board answers again.
   */
  async openAlarms(lockerIds: string[] | null = null): Promise<FleetAlarm[]> {
    const { rows } = await this.pool.query(
      `SELECT a.id::text, a.locker_id, a.type, a.at, a.data FROM fleet_events a
        WHERE a.type = ANY($1) AND a.at > now() - make_interval(days => $2)
          AND ($3::text[] IS NULL OR a.locker_id = ANY($3))
          -- Each clearing event found by its own index (fleet migration 007).
          AND NOT EXISTS (
            SELECT 1 FROM fleet_events c
             WHERE a.type <> 'board.fault' AND c.type = 'tray.door_closed' AND c.locker_id = a.locker_id
               AND (c.data ->> 'tray') = (a.data ->> 'tray') AND c.at >= a.at)
          AND NOT EXISTS (
            SELECT 1 FROM fleet_events c
             WHERE a.type = 'board.fault' AND c.type = 'board.recovered' AND c.locker_id = a.locker_id
               AND (c.data ->> 'board') = (a.data ->> 'board') AND c.at >= a.at)
        ORDER BY a.at DESC, a.received_at DESC`,
      [ALARM_TYPES, ALARM_DAYS, lockerIds],
    );
    return rows.map((r) => ({ id: r.id, lockerId: r.locker_id, type: r.type, at: r.at.toISOString(), data: r.data }));
  }

  /**
   * The report's counts per locker and local day, from the events (docs/fleet.md, "Figures"):
   * deposits completed, results loaded, results picked up, and the results whose pickup deadline
   * fell that day and has passed, with how many of those were picked up by it.
   */
  async figureRows(q: { from: string; to: string; timezone: string; lockerIds: string[] }): Promise<FigureRow[]> {
    const { rows } = await this.pool.query(
      `WITH bounds AS (
         SELECT ($1::date::timestamp AT TIME ZONE $3) AS lo, (($2::date + 1)::timestamp AT TIME ZONE $3) AS hi
       ), ev AS (
         -- A result counted due in the period was loaded up to the longest pickup window before it.
         SELECT e.locker_id, e.type, e.at, e.data FROM fleet_events e, bounds
          WHERE e.type IN ('deposit.completed', 'result.loaded', 'pickup.completed') AND e.locker_id = ANY($4)
            AND e.at >= bounds.lo - interval '${MAX_PICKUP_WINDOW_DAYS} days' AND e.at < bounds.hi
       ), loaded AS (
         SELECT r.locker_id, (r.data ->> 'pickupDeadline')::timestamptz AS deadline,
                -- From the table, not the CTE: the pickups' index (migration 003) finds it at once.
                EXISTS (SELECT 1 FROM fleet_events p WHERE p.type = 'pickup.completed' AND p.locker_id = r.locker_id
                          AND p.data ->> 'dossierCode' = r.data ->> 'dossierCode' AND p.at >= r.at
                          AND p.at <= (r.data ->> 'pickupDeadline')::timestamptz) AS on_time
           FROM ev r WHERE r.type = 'result.loaded'
       ), facts AS (
         SELECT locker_id, at, type AS metric FROM ev
         UNION ALL SELECT locker_id, deadline, 'due' FROM loaded WHERE deadline <= now()
         UNION ALL SELECT locker_id, deadline, 'on_time' FROM loaded WHERE deadline <= now() AND on_time
       )
       SELECT locker_id, to_char(at AT TIME ZONE $3, 'YYYY-MM-DD') AS day, metric, count(*)::int AS n
         FROM facts, bounds WHERE at >= bounds.lo AND at < bounds.hi
        GROUP BY 1, 2, 3`,
      [q.from, q.to, q.timezone, q.lockerIds],
    );
    return rows.map((r) => ({ lockerId: r.locker_id, day: r.day, metric: r.metric, n: r.n }));
  }

  async events(lockerId: string, limit: number): Promise<FleetEventRow[]> {
    const { rows } = await this.pool.query(
      'SELECT id::text, locker_id, type, at, data FROM fleet_events WHERE locker_id = $1 ORDER BY at DESC, received_at DESC LIMIT $2',
      [lockerId, limit],
    );
    return rows.map((r) => ({ id: r.id, lockerId: r.locker_id, type: r.type, at: r.at.toISOString(), data: r.data }));
  }

  async eventCount(): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM fleet_events');
    return rows[0].n;
  }
}

/** The longest pickup window a cabinet accepts (`flows.pickupWindowDays`, src/config/schema.ts). */
export const MAX_PICKUP_WINDOW_DAYS = 60;

export interface FigureRow {
  lockerId: string;
  day: string;
  metric: 'deposit.completed' | 'result.loaded' | 'pickup.completed' | 'due' | 'on_time';
  n: number;
}

/**
 * The stored occupancy, or null when there is none, or when its trays cannot be read (written by
 * hand or by another version): that locker shows no occupancy, every other locker still shows.
 */
function occupancyOf(r: Record<string, any>): OccupancyPayload | null {
  if (r.occupancy_at === null) return null;
  try {
    return { at: r.occupancy_at.toISOString(), counts: r.occupancy_counts, trays: decodeOccupancyTrays(r.occupancy_trays ?? '') };
  } catch {
    return null;
  }
}

function toLocker(r: Record<string, any>): LockerRow {
  return {
    lockerId: r.id,
    site: r.site_name === null ? null : { name: r.site_name, district: r.district, ward: r.ward, address: r.address },
    online: r.online,
    availabilityAt: iso(r.availability_at),
    occupancy: occupancyOf(r),
    roundNext: r.round_next,
    lastEventType: r.last_event_type,
    lastEventAt: iso(r.last_event_at),
    updatedAt: iso(r.heard_at),
  };
}
