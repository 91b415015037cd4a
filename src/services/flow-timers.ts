/**
 * The clock-driven side of the flows: deposits whose door never opened, pickup releases that
 * lapsed, doors held open, rounds coming due, reminders and expiry. A timer runs the given passes
 * in turn; each pass reads "now" from the injected clock, so a shifted simulator clock moves the
 * deadlines too. `tick()` runs one pass that starts after it is called (tests call it directly
 * after moving the clock or the records; the timer's own passes never queue behind each other).
 */
import type { Logger } from 'pino';

export interface TimedTask {
  name: string;
  run: () => Promise<unknown>;
}

export class FlowTimers {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** The pass asked for while one was under way: after it, shared by everyone who asked meanwhile. */
  private next: Promise<void> | null = null;

  constructor(private readonly deps: { tasks: TimedTask[]; intervalMs: number; logger: Logger }) {}

  start(): void {
    // A pass still under way when the interval comes round is enough: no second one queued behind it.
    this.timer = setInterval(() => void (this.running ?? this.tick()), this.deps.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.next;
    await this.running;
  }

  /**
   * One pass over every task, started after this call: a pass already under way may have read the
   * clock and the records before the caller changed them, so another follows it (one, however
   * many ask meanwhile).
   */
  tick(): Promise<void> {
    if (this.running) {
      this.next ??= this.running.then(() => {
        this.next = null;
        return this.tick();
      });
      return this.next;
    }
    this.running = (async () => {
      try {
        for (const task of this.deps.tasks) {
          try {
            await task.run();
          } catch (err) {
            this.deps.logger.error({ err, task: task.name }, 'timed task failed');
          }
        }
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }
}
