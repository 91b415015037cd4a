/** Ports: The admin dashboard's figures. */
import type { RatedService, RatingCounts, RatingReason } from '../../domain/ratings.js';
import type { Queryable } from './persistence.js';

/** One local day's figures. */
export interface DayFigures {
  /** The local date, `YYYY-MM-DD`. */
  day: string;
  /** Deposits completed (door closed on a dossier) that day. */
  deposits: number;
  /** Results loaded into a tray that day. */
  loaded: number;
  /** Results picked up that day. */
  pickedUp: number;
  /** Results whose pickup deadline fell that day (and has passed). */
  due: number;
  /** Of those, picked up before the deadline. */
  onTime: number;
  /** Of those, not picked up before the deadline. */
  unclaimed: number;
}

export interface AlarmRow {
  id: string;
  type: string;
  at: Date;
  data: Record<string, unknown>;
}

/** What the machine holds now, for the dashboard. */
export interface HeldNow {
  depositsWaiting: number;
  resultsWaiting: number;
  resultsOverdue: number;
}

/** One local month's ratings of one service. */
export interface SatisfactionMonth {
  /** The local month, `YYYY-MM`. */
  month: string;
  service: RatedService;
  counts: RatingCounts;
  /** How often each reason was given. */
  reasons: Record<RatingReason, number>;
}

/** The queries behind the dashboard (store/stats.ts). */
export interface StatsStore {
  daily(q: Queryable, now: Date, days: number, timezone: string): Promise<DayFigures[]>;
  /** `months` local months ending with the month of `now`, oldest first, each service in RATED_SERVICES order. */
  satisfaction(q: Queryable, now: Date, months: number, timezone: string): Promise<SatisfactionMonth[]>;
  current(q: Queryable, now: Date): Promise<HeldNow>;
  alarms(q: Queryable, limit: number): Promise<AlarmRow[]>;
}
