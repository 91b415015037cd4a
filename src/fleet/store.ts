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
import type { EventType, OccupancyPayload, RoundNextPayload, TrayPayload } from '../domain/events.js';
import { PACKAGE_ROOT } from '../config/package-root.js';

export const FLEET_MIGRATIONS_DIR = path.join(PACKAGE_ROOT, 'migrations', 'fleet');

export interface LockerRow {
  lockerId: string;
  online: boolean | null;
  availabilityAt: string | null;
  occupancy: OccupancyPayload | null;
  roundNext: RoundNextPayload | null;
  lastEventType: string | null;
  lastEventAt: string | null;
  updatedAt: string;
}

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

const iso = (v: Date | null): string | null => (v ? v.toISOString() : null);

export class FleetStore {
  readonly pool: pg.Pool;

  constructor(url: string, poolSize = 5) {
    // A database that stops answering makes requests fail (503) and messages wait, instead of hanging.
    this.pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 5_000, query_timeout: 15_000 });
    this.pool.on('error', () => undefined); // an idle client lost: the next query reconnects
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

  private async seen(q: pg.PoolClient | pg.Pool, lockerId: string): Promise<void> {
    await q.query('INSERT INTO fleet_lockers (locker_id) VALUES ($1) ON CONFLICT DO NOTHING', [lockerId]);
  }

  async setAvailability(lockerId: string, online: boolean): Promise<void> {
    await this.seen(this.pool, lockerId);
    await this.pool.query('UPDATE fleet_lockers SET online = $2, availability_at = now(), updated_at = now() WHERE locker_id = $1', [
      lockerId,
      online,
    ]);
  }

  /** The locker's occupancy, and its trays from it, unless a newer one is stored. */
  async setOccupancy(lockerId: string, occupancy: OccupancyPayload): Promise<boolean> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await this.seen(client, lockerId);
      const res = await client.query(
        `UPDATE fleet_lockers SET occupancy = $2, occupancy_at = $3, updated_at = now()
          WHERE locker_id = $1 AND (occupancy_at IS NULL OR occupancy_at <= $3)`,
        [lockerId, JSON.stringify(occupancy), occupancy.at],
      );
      if (res.rowCount) {
        const { trays } = occupancy;
        await client.query(
          `INSERT INTO fleet_trays (locker_id, tray, state, door, at)
           SELECT $1, t.tray, t.state, t.door, $5 FROM unnest($2::int[], $3::text[], $4::text[]) AS t(tray, state, door)
           ON CONFLICT (locker_id, tray) DO UPDATE SET state = EXCLUDED.state, door = EXCLUDED.door, at = EXCLUDED.at
           WHERE fleet_trays.at <= EXCLUDED.at`,
          [lockerId, trays.map((t) => t.number), trays.map((t) => t.state), trays.map((t) => t.door), occupancy.at],
        );
      }
      await client.query('COMMIT');
      return res.rowCount === 1;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  /** One tray (`trays/<n>`), unless a newer reading of it is stored. */
  async setTray(lockerId: string, tray: TrayPayload): Promise<boolean> {
    await this.seen(this.pool, lockerId);
    const res = await this.pool.query(
      `INSERT INTO fleet_trays (locker_id, tray, cabinet, size, state, door, at) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (locker_id, tray) DO UPDATE SET cabinet = EXCLUDED.cabinet, size = EXCLUDED.size, state = EXCLUDED.state,
         door = EXCLUDED.door, at = EXCLUDED.at
       WHERE fleet_trays.at <= EXCLUDED.at`,
      [lockerId, tray.number, tray.cabinet, tray.size, tray.state, tray.door, tray.at],
    );
    return res.rowCount === 1;
  }

  async setRoundNext(lockerId: string, round: RoundNextPayload): Promise<boolean> {
    await this.seen(this.pool, lockerId);
    const res = await this.pool.query(
      `UPDATE fleet_lockers SET round_next = $2, round_next_at = $3, updated_at = now()
        WHERE locker_id = $1 AND (round_next_at IS NULL OR round_next_at <= $3)`,
      [lockerId, JSON.stringify(round), round.at],
    );
    return res.rowCount === 1;
  }

  /** Stores an event once; returns false when it was stored already. */
  async addEvent(lockerId: string, event: { id: string; type: EventType; at: string; data: unknown }): Promise<boolean> {
    await this.seen(this.pool, lockerId);
    const { rows } = await this.pool.query<{ inserted: number }>(
      `WITH e AS (
         INSERT INTO fleet_events (id, locker_id, type, at, data) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING RETURNING 1
       ), u AS (
         UPDATE fleet_lockers SET last_event_type = $3, last_event_at = $4, updated_at = now()
          WHERE locker_id = $2 AND EXISTS (SELECT 1 FROM e) AND (last_event_at IS NULL OR last_event_at <= $4)
         RETURNING 1
       )
       SELECT (SELECT count(*) FROM e)::int AS inserted`,
      [event.id, lockerId, event.type, event.at, JSON.stringify(event.data)],
    );
    return rows[0].inserted === 1;
  }

  async lockers(): Promise<LockerRow[]> {
    const { rows } = await this.pool.query('SELECT * FROM fleet_lockers ORDER BY locker_id');
    return rows.map(toLocker);
  }

  async locker(lockerId: string): Promise<(LockerRow & { trays: FleetTray[] }) | null> {
    const { rows } = await this.pool.query('SELECT * FROM fleet_lockers WHERE locker_id = $1', [lockerId]);
    if (!rows.length) return null;
    const trays = await this.pool.query('SELECT tray, cabinet, size, state, door, at FROM fleet_trays WHERE locker_id = $1 ORDER BY tray', [
      lockerId,
    ]);
    return {
      ...toLocker(rows[0]),
      trays: trays.rows.map((r) => ({
        number: r.tray,
        cabinet: r.cabinet,
        size: r.size,
        state: r.state,
        door: r.door,
        at: r.at.toISOString(),
      })),
    };
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

function toLocker(r: Record<string, any>): LockerRow {
  return {
    lockerId: r.locker_id,
    online: r.online,
    availabilityAt: iso(r.availability_at),
    occupancy: r.occupancy,
    roundNext: r.round_next,
    lastEventType: r.last_event_type,
    lastEventAt: iso(r.last_event_at),
    updatedAt: r.updated_at.toISOString(),
  };
}
