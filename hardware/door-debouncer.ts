/**
 * Debounce of one door switch read by sampling: a new reading counts only once it has been seen
 * continuously for `debounceMs`. The first reading ever is taken as it is (start-up snapshot).
 */
import type { DoorState } from '../src/services/ports.js';

export class DoorDebouncer {
  private stableState: DoorState = 'unknown';
  private candidate: boolean | undefined;
  private candidateSinceMs = 0;

  constructor(private readonly debounceMs: number) {}

  get state(): DoorState {
    return this.stableState;
  }

  /** When the reading now awaiting confirmation was first seen (undefined: none awaits). */
  get pendingSinceMs(): number | undefined {
    return this.candidate === undefined ? undefined : this.candidateSinceMs;
  }

  /** Feed one sample (true = open) taken at `nowMs`; returns the new state when it changed. */
  sample(open: boolean, nowMs: number): DoorState | undefined {
    const reading: DoorState = open ? 'open' : 'closed';
    if (this.stableState === 'unknown') {
      this.stableState = reading;
      return undefined;
    }
    if (reading === this.stableState) {
      this.candidate = undefined;
      return undefined;
    }
    if (this.candidate !== open) {
      this.candidate = open;
      this.candidateSinceMs = nowMs;
    }
    if (nowMs - this.candidateSinceMs >= this.debounceMs) {
      this.stableState = reading;
      this.candidate = undefined;
      return reading;
    }
    return undefined;
  }
}
