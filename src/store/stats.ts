/**
 * Figures for the admin dashboard, computed in SQL from the dossiers table, the ratings per month
 * from the ratings table, and the recent alarms from the outbox. Days and months are local (the
 * locker's time zone), oldest first.
 */
import { RATED_SERVICES, RATING_REASONS, RATINGS } from '../domain/ratings.js';
import type { AlarmRow, DayFigures, SatisfactionMonth, StatsStore } from '../services/ports.js';
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

  /**
   * `months` local months ending with the month of `now`, each service in RATED_SERVICES order:
   * ratings per face and reasons given (zeros where none). A rating's hour falls inside one local
   * month in a whole-hour time zone.
   */
  async satisfaction(q: Queryable, now: Date, months: number, timezone: string): Promise<SatisfactionMonth[]> {
    const { rows } = await q.query(
      `WITH bounds AS (
         SELECT date_trunc('month', $2::timestamptz AT TIME ZONE $4) - make_interval(months => $3::int - 1) AS first_month,
                date_trunc('month', $2::timestamptz AT TIME ZONE $4) AS last_month
       ),
       months AS (SELECT generate_series(first_month, last_month, interval '1 month') AS month FROM bounds),
       services AS (SELECT service, ord FROM unnest($5::text[]) WITH ORDINALITY AS s(service, ord)),
       rated AS (
         SELECT date_trunc('month', hour AT TIME ZONE $4) AS month, service, rating, reasons
           FROM ratings, bounds
          WHERE locker_id = $1 AND hour >= (bounds.first_month AT TIME ZONE $4) AND hour <= $2
       ),
       faces AS (
         SELECT month, service, jsonb_object_agg(rating, n) AS counts
           FROM (SELECT month, service, rating, count(*)::int AS n FROM rated GROUP BY 1, 2, 3) f
          GROUP BY 1, 2
       ),
       reasons AS (
         SELECT month, service, jsonb_object_agg(reason, n) AS counts
           FROM (SELECT month, service, reason, count(*)::int AS n FROM rated, unnest(reasons) AS reason GROUP BY 1, 2, 3) r
          GROUP BY 1, 2
       )
       SELECT to_char(months.month, 'YYYY-MM') AS month, services.service,
              coalesce(faces.counts, '{}'::jsonb) AS counts, coalesce(reasons.counts, '{}'::jsonb) AS reasons
         FROM months CROSS JOIN services
         LEFT JOIN faces ON faces.month = months.month AND faces.service = services.service
         LEFT JOIN reasons ON reasons.month = months.month AND reasons.service = services.service
        ORDER BY months.month, services.ord`,
      [this.lockerId, now, months, timezone, RATED_SERVICES],
    );
    const count = <K extends string>(keys: readonly K[], given: Record<string, number>) =>
      Object.fromEntries(keys.map((k) => [k, Number(given[k] ?? 0)])) as Record<K, number>;
    return rows.map((r: any) => ({
      month: r.month,
      service: r.service,
      counts: count(RATINGS, r.counts),
      reasons: count(RATING_REASONS, r.reasons),
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
