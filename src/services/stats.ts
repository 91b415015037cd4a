/**
 * The admin dashboard's figures: today and the last 30 days (deposits, results loaded, picked up,
 * unclaimed, on-time rate), the daily series for the chart, what the machine holds now, the
 * citizens' satisfaction per month and service, and the recent alarms.
 */
import type { Clock } from '../domain/clock.js';
import { satisfiedShare, RATINGS, type RatedService, type RatingCounts, type RatingReason } from '../domain/ratings.js';
import type { AlarmRow, Database, DayFigures, HeldNow, SatisfactionMonth, StatsStore } from './ports.js';

export type { AlarmRow, DayFigures } from './ports.js';

export interface PeriodFigures {
  deposits: number;
  loaded: number;
  pickedUp: number;
  /** Results whose pickup deadline passed in the period. */
  due: number;
  /** Of those, not picked up before the deadline. */
  unclaimed: number;
  /** Picked up before the deadline / results due; null when none was due. */
  onTimeRate: number | null;
}

/** One local month's ratings of one service, with the share of satisfied citizens. */
export interface SatisfactionFigures {
  month: string;
  service: RatedService;
  counts: RatingCounts;
  total: number;
  /** (very satisfied + satisfied) / total; null with no rating. */
  satisfiedShare: number | null;
  reasons: Record<RatingReason, number>;
}

export interface DashboardStats {
  at: string;
  timezone: string;
  today: PeriodFigures;
  last30Days: PeriodFigures;
  days: DayFigures[];
  now: HeldNow;
  satisfaction: SatisfactionFigures[];
}

export interface AlarmView {
  id: string;
  type: string;
  at: string;
  data: Record<string, unknown>;
}

export interface StatsServiceDeps {
  db: Database;
  stats: StatsStore;
  clock: Clock;
  timezone: string;
}

export const STATS_DAYS = 30;
/** Months of ratings on the dashboard, this one included. */
export const SATISFACTION_MONTHS = 12;

export function satisfactionFigures(m: SatisfactionMonth): SatisfactionFigures {
  return {
    month: m.month,
    service: m.service,
    counts: m.counts,
    total: RATINGS.reduce((n, r) => n + m.counts[r], 0),
    satisfiedShare: satisfiedShare(m.counts),
    reasons: m.reasons,
  };
}

export function sumPeriod(days: DayFigures[]): PeriodFigures {
  const total = days.reduce(
    (acc, d) => ({
      deposits: acc.deposits + d.deposits,
      loaded: acc.loaded + d.loaded,
      pickedUp: acc.pickedUp + d.pickedUp,
      due: acc.due + d.due,
      onTime: acc.onTime + d.onTime,
    }),
    { deposits: 0, loaded: 0, pickedUp: 0, due: 0, onTime: 0 },
  );
  return {
    deposits: total.deposits,
    loaded: total.loaded,
    pickedUp: total.pickedUp,
    due: total.due,
    unclaimed: total.due - total.onTime,
    onTimeRate: total.due ? total.onTime / total.due : null,
  };
}

export class StatsService {
  constructor(private readonly deps: StatsServiceDeps) {}

  async dashboard(): Promise<DashboardStats> {
    const { db, stats, clock, timezone } = this.deps;
    const now = clock.now();
    const [days, current, months] = await Promise.all([
      stats.daily(db, now, STATS_DAYS, timezone),
      stats.current(db, now),
      stats.satisfaction(db, now, SATISFACTION_MONTHS, timezone),
    ]);
    return {
      at: now.toISOString(),
      timezone,
      today: sumPeriod(days.slice(-1)),
      last30Days: sumPeriod(days),
      days,
      now: current,
      satisfaction: months.map(satisfactionFigures),
    };
  }

  async alarms(limit = 20): Promise<AlarmView[]> {
    const rows: AlarmRow[] = await this.deps.stats.alarms(this.deps.db, limit);
    return rows.map((a) => ({ id: a.id, type: a.type, at: a.at.toISOString(), data: a.data }));
  }
}
