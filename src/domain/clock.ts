/** Time comes from an injected clock so that tests (and the simulator) can move it. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock shifted by an adjustable offset; the simulator's `POST /api/sim/clock` moves it. */
export class OffsetClock implements Clock {
  private offsetMs = 0;
  constructor(private readonly base: Clock = systemClock) {}
  now(): Date {
    return new Date(this.base.now().getTime() + this.offsetMs);
  }
  setOffset(ms: number): void {
    this.offsetMs = ms;
  }
  get offset(): number {
    return this.offsetMs;
  }
}
