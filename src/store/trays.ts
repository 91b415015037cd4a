/** Trays, boards and lockers in PostgreSQL. */
import type { CabinetMap } from '../domain/cabinet.js';
import type { Door, Tray, TrayContent } from '../domain/tray.js';
import type { Queryable } from './db.js';
import type { TrayStore } from '../services/ports.js';

interface TrayRow {
  number: number;
  cabinet: string;
  board_id: string;
  lock_channel: number;
  door_input: number;
  size: Tray['size'];
  role: Tray['role'];
  content: TrayContent;
  door: Door;
  released_at: Date | null;
  disabled_reason: string | null;
  fault: string | null;
  changed_at: Date;
}

const COLUMNS = `number, cabinet, board_id, lock_channel, door_input, size, role, content, door,
  released_at, disabled_reason, fault, changed_at`;

function toTray(r: TrayRow): Tray {
  return {
    number: r.number,
    cabinet: r.cabinet,
    board: r.board_id,
    lockChannel: r.lock_channel,
    doorInput: r.door_input,
    size: r.size,
    role: r.role,
    content: r.content,
    door: r.door,
    releasedAt: r.released_at,
    disabledReason: r.disabled_reason,
    fault: r.fault,
    changedAt: r.changed_at,
  };
}

export class TrayRepository implements TrayStore {
  constructor(private readonly lockerId: string) {}

  /**
   * Records the locker and brings boards and trays in line with the configured map. Existing trays
   * keep their content, door and service state; their wiring, size and role follow the map.
   */
  async applyMap(q: Queryable, name: string, map: CabinetMap): Promise<void> {
    await q.query(`INSERT INTO lockers (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name`, [
      this.lockerId,
      name,
    ]);
    for (const b of map.boards) {
      await q.query(
        `INSERT INTO boards (locker_id, id, bus, unit_id, profile) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (locker_id, id) DO UPDATE SET bus = EXCLUDED.bus, unit_id = EXCLUDED.unit_id,
           profile = EXCLUDED.profile`,
        [this.lockerId, b.id, b.bus, b.unitId, b.profile],
      );
    }
    for (const t of map.trays) {
      await q.query(
        `INSERT INTO trays (locker_id, number, cabinet, board_id, lock_channel, door_input, size, role)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (locker_id, number) DO UPDATE SET cabinet = EXCLUDED.cabinet, board_id = EXCLUDED.board_id,
           lock_channel = EXCLUDED.lock_channel, door_input = EXCLUDED.door_input, size = EXCLUDED.size,
           role = EXCLUDED.role`,
        [this.lockerId, t.number, t.cabinet, t.board, t.lockChannel, t.doorInput, t.size, t.role],
      );
    }
    // Trays no longer in the map are taken out of service rather than deleted: their history stays.
    const numbers = map.trays.map((t) => t.number);
    await q.query(
      `UPDATE trays SET disabled_reason = 'not in the cabinet map', changed_at = now()
       WHERE locker_id = $1 AND NOT (number = ANY($2::int[])) AND disabled_reason IS DISTINCT FROM 'not in the cabinet map'`,
      [this.lockerId, numbers],
    );
  }

  async list(q: Queryable): Promise<Tray[]> {
    const { rows } = await q.query<TrayRow>(`SELECT ${COLUMNS} FROM trays WHERE locker_id = $1 ORDER BY number`, [this.lockerId]);
    return rows.map(toTray);
  }

  async get(q: Queryable, number: number, opts: { forUpdate?: boolean } = {}): Promise<Tray | null> {
    const { rows } = await q.query<TrayRow>(
      `SELECT ${COLUMNS} FROM trays WHERE locker_id = $1 AND number = $2${opts.forUpdate ? ' FOR UPDATE' : ''}`,
      [this.lockerId, number],
    );
    return rows[0] ? toTray(rows[0]) : null;
  }

  async setDoor(q: Queryable, number: number, door: Door, at: Date, opts: { keepRelease?: boolean } = {}): Promise<void> {
    await q.query(
      `UPDATE trays SET door = $3::text,
         released_at = CASE WHEN $3::text = 'open' AND NOT $5::boolean THEN NULL ELSE released_at END,
         door_open_since = CASE WHEN $3::text = 'open' THEN COALESCE(door_open_since, $4) ELSE NULL END,
         held_open_alarm_at = CASE WHEN $3::text = 'open' THEN held_open_alarm_at ELSE NULL END,
         changed_at = $4, version = version + 1
       WHERE locker_id = $1 AND number = $2`,
      [this.lockerId, number, door, at, opts.keepRelease ?? false],
    );
  }

  /**
   * `get(…, { forUpdate: true })` and `setDoor` in one statement, when the door changes: locks the
   * tray, and if its door is not already `door`, records it. Returns the tray as it was before, or
   * null (no such tray, or its door already so: nothing written).
   */
  async setDoorFrom(q: Queryable, number: number, door: Door, at: Date, opts: { keepRelease?: boolean } = {}): Promise<Tray | null> {
    const { rows } = await q.query<TrayRow>(
      `WITH before AS (
         SELECT ${COLUMNS} FROM trays WHERE locker_id = $1 AND number = $2 FOR UPDATE
       ), changed AS (
         UPDATE trays SET door = $3::text,
           released_at = CASE WHEN $3::text = 'open' AND NOT $5::boolean THEN NULL ELSE trays.released_at END,
           door_open_since = CASE WHEN $3::text = 'open' THEN COALESCE(trays.door_open_since, $4) ELSE NULL END,
           held_open_alarm_at = CASE WHEN $3::text = 'open' THEN trays.held_open_alarm_at ELSE NULL END,
           changed_at = $4, version = trays.version + 1
         FROM before
         WHERE trays.locker_id = $1 AND trays.number = before.number AND before.door IS DISTINCT FROM $3::text
         RETURNING trays.number
       )
       SELECT before.* FROM before JOIN changed ON changed.number = before.number`,
      [this.lockerId, number, door, at, opts.keepRelease ?? false],
    );
    return rows[0] ? toTray(rows[0]) : null;
  }

  /**
   * Reserves the smallest free tray that fits (`minSize` or larger) for `role`, skipping trays
   * another transaction is reserving at this moment: two deposits never get one tray.
   */
  async reserveFree(
    q: Queryable,
    role: 'deposit' | 'result',
    minSize: Tray['size'],
    at: Date,
    exclude: number[] = [],
  ): Promise<number | null> {
    // One statement: the tray is chosen, locked (skipping those locked now) and reserved.
    const { rows } = await q.query<{ number: number }>(
      `UPDATE trays SET content = 'reserved', changed_at = $5, version = version + 1
       WHERE locker_id = $1 AND number = (
         SELECT number FROM trays
         WHERE locker_id = $1 AND content = 'free' AND disabled_reason IS NULL AND fault IS NULL
           AND door = 'closed' AND role IN ($2, 'both') AND NOT (number = ANY($4::int[]))
           AND array_position(ARRAY['S','M','L'], size) >= array_position(ARRAY['S','M','L'], $3::text)
         ORDER BY array_position(ARRAY['S','M','L'], size), (role = 'both'), number
         LIMIT 1
         FOR UPDATE SKIP LOCKED)
       RETURNING number`,
      [this.lockerId, role, minSize, exclude, at],
    );
    return rows[0]?.number ?? null;
  }

  /** Free trays by role and size, for the kiosk to say "no tray" before a code is sent. */
  async countFree(q: Queryable, role: 'deposit' | 'result', minSize: Tray['size']): Promise<number> {
    const { rows } = await q.query<{ n: string }>(
      `SELECT count(*) AS n FROM trays
       WHERE locker_id = $1 AND content = 'free' AND disabled_reason IS NULL AND fault IS NULL
         AND door = 'closed' AND role IN ($2, 'both')
         AND array_position(ARRAY['S','M','L'], size) >= array_position(ARRAY['S','M','L'], $3::text)`,
      [this.lockerId, role, minSize],
    );
    return Number(rows[0].n);
  }

  /**
   * Raises the held-open mark on those of `trays` whose door is recorded open, not at fault, and
   * not marked yet (the service decides how long each has been open, on the monotonic clock).
   */
  async markHeldOpen(q: Queryable, now: Date, trays: number[]): Promise<{ number: number; openSince: Date }[]> {
    const { rows } = await q.query<{ number: number; door_open_since: Date }>(
      `UPDATE trays SET held_open_alarm_at = $2
       WHERE locker_id = $1 AND door = 'open' AND held_open_alarm_at IS NULL AND fault IS NULL
         AND number = ANY($3::int[])
       RETURNING number, door_open_since`,
      [this.lockerId, now, trays],
    );
    return rows.map((r) => ({ number: r.number, openSince: r.door_open_since })).sort((a, b) => a.number - b.number);
  }

  /**
   * `get(…, { forUpdate: true })` and, for a tray whose board is not at fault, `markReleased`, in
   * one statement. Returns the tray's board and fault as locked (`released`: whether the release
   * was written), or null when there is no such tray.
   */
  async markReleasedIfUp(
    q: Queryable,
    number: number,
    at: Date,
  ): Promise<{ board: string; fault: string | null; released: boolean } | null> {
    const { rows } = await q.query<{ board_id: string; fault: string | null; released: boolean }>(
      `WITH t AS (
         SELECT number, board_id, fault FROM trays WHERE locker_id = $1 AND number = $2 FOR UPDATE
       ), u AS (
         UPDATE trays SET released_at = $3, changed_at = $3, version = trays.version + 1
         FROM t WHERE trays.locker_id = $1 AND trays.number = t.number AND t.fault IS NULL
         RETURNING trays.number
       )
       SELECT t.board_id, t.fault, EXISTS (SELECT 1 FROM u) AS released FROM t`,
      [this.lockerId, number, at],
    );
    return rows[0] ? { board: rows[0].board_id, fault: rows[0].fault, released: rows[0].released } : null;
  }

  async markReleased(q: Queryable, number: number, at: Date): Promise<void> {
    await q.query(`UPDATE trays SET released_at = $3, changed_at = $3, version = version + 1 WHERE locker_id = $1 AND number = $2`, [
      this.lockerId,
      number,
      at,
    ]);
  }

  async clearRelease(q: Queryable, number: number): Promise<void> {
    await q.query(`UPDATE trays SET released_at = NULL, version = version + 1 WHERE locker_id = $1 AND number = $2 AND door <> 'open'`, [
      this.lockerId,
      number,
    ]);
  }

  async setDisabled(q: Queryable, number: number, reason: string | null, at: Date): Promise<void> {
    await q.query(`UPDATE trays SET disabled_reason = $3, changed_at = $4, version = version + 1 WHERE locker_id = $1 AND number = $2`, [
      this.lockerId,
      number,
      reason,
      at,
    ]);
  }

  async setContent(q: Queryable, number: number, content: TrayContent, at: Date): Promise<void> {
    await q.query(`UPDATE trays SET content = $3, changed_at = $4, version = version + 1 WHERE locker_id = $1 AND number = $2`, [
      this.lockerId,
      number,
      content,
      at,
    ]);
  }

  /** Sets or clears the fault of every tray on a board and the board's own status; returns the trays. */
  async setBoardFault(q: Queryable, board: string, fault: string | null, at: Date): Promise<number[]> {
    await q.query(
      `UPDATE boards SET online = $3, last_fault = COALESCE($4, last_fault), changed_at = $5
       WHERE locker_id = $1 AND id = $2`,
      [this.lockerId, board, fault === null, fault, at],
    );
    const { rows } = await q.query<{ number: number }>(
      `UPDATE trays SET fault = $3, changed_at = $4, version = version + 1
       WHERE locker_id = $1 AND board_id = $2 AND fault IS DISTINCT FROM $3 RETURNING number`,
      [this.lockerId, board, fault, at],
    );
    return rows.map((r) => r.number).sort((a, b) => a - b);
  }
}
