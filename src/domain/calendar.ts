/**
 * Working days and collection rounds. A day is a working day if it is Monday–Friday and not a
 * holiday, or if it is a listed make-up working day. Round times are wall-clock times in the
 * locker's time zone; the next one is found with croner (time-zone aware) and filtered by the
 * calendar, always from a `now` the caller takes from the injected clock.
 */
import { Cron } from 'croner';

export interface CalendarDay {
  date: string; // YYYY-MM-DD
  name: string;
}

export interface WorkCalendar {
  timezone: string;
  /** "HH:MM", ascending */
  rounds: string[];
  holidays: CalendarDay[];
  workdays: CalendarDay[];
}

/** YYYY-MM-DD of `at` in `timezone`. */
export function localDate(at: Date, timezone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

function weekday(date: string): number {
  return new Date(`${date}T12:00:00Z`).getUTCDay(); // 0 Sunday … 6 Saturday
}

export function isWorkingDay(calendar: WorkCalendar, date: string): boolean {
  if (calendar.workdays.some((d) => d.date === date)) return true;
  if (calendar.holidays.some((d) => d.date === date)) return false;
  const day = weekday(date);
  return day >= 1 && day <= 5;
}

/** Why a day is not worked (for the manifest and the staff screen), or null. */
export function dayOff(calendar: WorkCalendar, date: string): string | null {
  if (isWorkingDay(calendar, date)) return null;
  return calendar.holidays.find((d) => d.date === date)?.name ?? (weekday(date) === 0 ? 'Chủ nhật' : 'Thứ Bảy');
}

const crons = new Map<string, Cron>();
function cronFor(time: string, timezone: string): Cron {
  const key = `${time}@${timezone}`;
  let cron = crons.get(key);
  if (!cron) {
    const [h, m] = time.split(':').map(Number);
    cron = new Cron(`${m} ${h} * * *`, { timezone, paused: true });
    crons.set(key, cron);
  }
  return cron;
}

/** The first round strictly after `after`, on a working day. */
export function nextRound(calendar: WorkCalendar, after: Date): Date {
  let best: Date | null = null;
  for (const time of calendar.rounds) {
    const cron = cronFor(time, calendar.timezone);
    let candidate = cron.nextRun(after);
    for (let guard = 0; candidate && guard < 400; guard++) {
      if (isWorkingDay(calendar, localDate(candidate, calendar.timezone))) break;
      candidate = cron.nextRun(candidate);
    }
    if (candidate && (!best || candidate < best)) best = candidate;
  }
  if (!best) throw new Error('no working day in the next 400 days: check the calendar');
  return best;
}

/** The next `n` rounds after `after`. */
export function nextRounds(calendar: WorkCalendar, after: Date, n: number): Date[] {
  const out: Date[] = [];
  let from = after;
  for (let i = 0; i < n; i++) {
    from = nextRound(calendar, from);
    out.push(from);
  }
  return out;
}

/**
 * The longest run of days without a round in the years the calendar lists (weekends at least):
 * how long a result past its pickup window can wait for the round that takes it back.
 */
export function longestDaysOff(calendar: WorkCalendar): number {
  const years = [...calendar.holidays, ...calendar.workdays].map((d) => Number(d.date.slice(0, 4)));
  const first = years.length ? Math.min(...years) : 2026;
  const last = years.length ? Math.max(...years) : first;
  let longest = 0;
  let run = 0;
  for (let t = Date.UTC(first, 0, 1); t <= Date.UTC(last, 11, 31); t += 86_400_000) {
    run = isWorkingDay(calendar, new Date(t).toISOString().slice(0, 10)) ? 0 : run + 1;
    longest = Math.max(longest, run);
  }
  return longest;
}
