/**
 * Time comes from an injected clock so that tests (and the simulator) can move it.
 *
 * Two kinds of time: `now()` is the wall clock (records, schedules, deadlines shown to people);
 * `monotonicMs()` measures durations that decide what happens at a tray (a door window, a lapse).
 * A wall clock can step (NTP, a wrong RTC at boot); a duration must not step with it.
 */
export interface Clock {
  now(): Date;
  /** Milliseconds from an arbitrary origin that never goes back; absent: `performance.now()`. */
  monotonicMs?(): number;
}

export const systemClock: Clock = { now: () => new Date(), monotonicMs: () => performance.now() };

/** Monotonic milliseconds of any clock. */
export function monotonicMs(clock: Clock): number {
  return clock.monotonicMs ? clock.monotonicMs() : performance.now();
}

/**
 * A clock shifted by an adjustable offset. `setOffset` steps the wall clock only (what an NTP
 * correction does: durations are untouched); `advance` makes time pass, wall and monotonic alike
 * (tests that need a minute to go by without waiting for it).
 */
export class OffsetClock implements Clock {
  private offsetMs = 0;
  private advancedMs = 0;
  constructor(private readonly base: Clock = systemClock) {}
  now(): Date {
    return new Date(this.base.now().getTime() + this.offsetMs);
  }
  monotonicMs(): number {
    return monotonicMs(this.base) + this.advancedMs;
  }
  /** Steps the wall clock to `ms` from the system's; durations are not affected. */
  setOffset(ms: number): void {
    this.offsetMs = ms;
  }
  /** Lets `ms` pass at once, on the wall clock and on the monotonic one. */
  advance(ms: number): void {
    if (ms < 0) throw new RangeError('time does not go back');
    this.offsetMs += ms;
    this.advancedMs += ms;
  }
  get offset(): number {
    return this.offsetMs;
  }
}
