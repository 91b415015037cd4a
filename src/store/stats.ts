/**
 * Figures for the admin dashboard, computed in SQL from the dossiers table, and the recent alarms
 * from the outbox. Days are local days (the locker's time zone), oldest first.
 */
import type { AlarmRow, DayFigures, StatsStore } from '../services/ports.js';
import type { Queryable } from './db.js';

export class StatsRepository implements StatsStore {
  constructor(private readonly lockerId: string) {}

  /** `days` local days ending with the day of `now`, each with its figures. */
  async daily(q: Queryable, now: Date, days: number, timezone: string): Promise<DayFigures[]> {
    const { rows } = await q.query(
      `WITH bounds AS (
         SELECT (($2::timestamptz AT TIME ZONE $4)::date - ($3::int - 1)) AS first_day,
                ($2::timestamptz AT TIME ZONE $4)::date AS last_day
       ),
       since AS (SELECT (first_day::timestamp AT TIME ZONE $4) AS at FROM bounds),
       days AS (
         SELECT generate_series(first_day, last_day, interval '1 day')::date AS day FROM bounds
       ),
       deposits AS (
         SELECT (deposited_at AT TIME ZONE $4)::date AS day, count(*)::int AS n
           FROM dossiers, since
          WHERE locker_id = $1 AND kind = 'deposit' AND deposited_at >= since.at AND deposited_at <= $2
          GROUP BY 1
       ),
       loaded AS (
         SELECT (loaded_at AT TIME ZONE $4)::date AS day, count(*)::int AS n
           FROM dossiers, since
          WHERE locker_id = $1 AND kind = 'result' AND loaded_at >= since.at AND loaded_at <= $2
          GROUP BY 1
       ),
       picked AS (
         SELECT (picked_up_at AT TIME ZONE $4)::date AS day, count(*)::int AS n
           FROM dossiers, since
          WHERE locker_id = $1 AND kind = 'result' AND picked_up_at >= since.at AND picked_up_at <= $2
          GROUP BY 1
       ),
       due AS (
         SELECT (pickup_deadline AT TIME ZONE $4)::date AS day,
                count(*)::int AS n,
                (count(*) FILTER (WHERE picked_up_at IS NOT NULL AND picked_up_at <= pickup_deadline))::int AS on_time
           FROM dossiers, since
          WHERE locker_id = $1 AND kind = 'result' AND pickup_deadline >= since.at AND pickup_deadline <= $2
          GROUP BY 1
       )
       SELECT to_char(days.day, 'YYYY-MM-DD') AS day,
              coalesce(deposits.n, 0) AS deposits, coalesce(loaded.n, 0) AS loaded,
              coalesce(picked.n, 0) AS picked_up, coalesce(due.n, 0) AS due, coalesce(due.on_time, 0) AS on_time
         FROM days
         LEFT JOIN deposits ON deposits.day = days.day
         LEFT JOIN loaded ON loaded.day = days.day
         LEFT JOIN picked ON picked.day = days.day
         LEFT JOIN due ON due.day = days.day
        ORDER BY days.day`,
      [this.lockerId, now, days, timezone],
    );
    return rows.map((r: any) => ({
      day: r.day,
      deposits: Number(r.deposits),
      loaded: Number(r.loaded),
      pickedUp: Number(r.picked_up),
      due: Number(r.due),
      onTime: Number(r.on_time),
      unclaimed: Number(r.due) - Number(r.on_time),
    }));
  }

  /** What the machine holds now: deposits to collect, results waiting, results past their deadline. */
  async current(q: Queryable, now: Date): Promise<{ depositsWaiting: number; resultsWaiting: number; resultsOverdue: number }> {
    const { rows } = await q.query(
      `SELECT (count(*) FILTER (WHERE kind = 'deposit' AND status = 'deposited'))::int AS deposits_waiting,
              (count(*) FILTER (WHERE kind = 'result' AND status IN ('loaded', 'notified')
                                  AND (pickup_deadline IS NULL OR pickup_deadline > $2)))::int AS results_waiting,
              (count(*) FILTER (WHERE kind = 'result' AND (status = 'expired'
                                  OR (status IN ('loaded', 'notified') AND pickup_deadline <= $2))))::int AS results_overdue
         FROM dossiers WHERE locker_id = $1`,
      [this.lockerId, now],
    );
    const r = rows[0] ?? {};
    return {
      depositsWaiting: Number(r.deposits_waiting ?? 0),
      resultsWaiting: Number(r.results_waiting ?? 0),
      resultsOverdue: Number(r.results_overdue ?? 0),
    };
  }

  /**
   * The newest events that need a person: `alarm.*`, a silent board, a tray to check; newest first.
   * A board silent from the start has no `board.fault` (the driver never saw it answer): the
   * start-up reading that names it among `boardsOffline` is its alarm.
   */
  async alarms(q: Queryable, limit: number): Promise<AlarmRow[]> {
    const { rows } = await q.query(
      `SELECT id, type, created_at, payload FROM outbox
        WHERE locker_id = $1
          AND (type LIKE 'alarm.%' OR type IN ('board.fault', 'tray.to_check')
               OR (type = 'locker.started' AND jsonb_array_length(coalesce(payload -> 'data' -> 'boardsOffline', '[]'::jsonb)) > 0))
        ORDER BY seq DESC LIMIT $2`,
      [this.lockerId, limit],
    );
    return rows.map((r: any) => ({ id: r.id, type: r.type, at: new Date(r.payload?.at ?? r.created_at), data: r.payload?.data ?? {} }));
  }
}
