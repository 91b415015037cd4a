/** Ports: The admin dashboard's figures. */
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

/** The queries behind the dashboard (store/stats.ts). */
export interface StatsStore {
  daily(q: Queryable, now: Date, days: number, timezone: string): Promise<DayFigures[]>;
  current(q: Queryable, now: Date): Promise<HeldNow>;
  alarms(q: Queryable, limit: number): Promise<AlarmRow[]>;
}
