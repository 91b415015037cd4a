/**
 * Runs jobs at monotonic due times (performance.now() ms), in order, with sub-millisecond
 * precision: a timer wakes us shortly before the due time and the last stretch is covered by
 * setImmediate turns, so lateness does not add up from one job to the next. Used by the simulator
 * to send answers exactly when the wire would have delivered them.
 */
import { performance } from 'node:perf_hooks';

/** Below this much remaining time, yield with setImmediate instead of a timer (timers run ≥1 ms late). */
const SPIN_WINDOW_MS = 1.5;

interface Job {
  dueMs: number;
  run: () => void;
}

export class DueQueue {
  private readonly jobs: Job[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private draining = false;

  /** Due times must not decrease between calls (one bus serves one frame after the other). */
  at(dueMs: number, run: () => void): void {
    this.jobs.push({ dueMs, run });
    if (!this.draining && !this.timer && !this.immediate) this.arm();
  }

  clear(): void {
    this.jobs.length = 0;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  private arm(): void {
    this.timer = undefined;
    this.immediate = undefined;
    this.draining = true;
    try {
      while (this.jobs.length > 0 && this.jobs[0].dueMs <= performance.now()) {
        this.jobs.shift()!.run();
      }
    } finally {
      this.draining = false;
    }
    const head = this.jobs[0];
    if (!head) return;
    const remaining = head.dueMs - performance.now();
    if (remaining > SPIN_WINDOW_MS) {
      this.timer = setTimeout(() => this.arm(), remaining - SPIN_WINDOW_MS);
    } else {
      this.immediate = setImmediate(() => this.arm());
    }
  }
}
