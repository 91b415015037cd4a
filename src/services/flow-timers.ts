/**
 * The clock-driven side of the flows: deposits whose door never opened, pickup releases that
 * lapsed, doors held open, rounds coming due, reminders and expiry. A timer runs the given passes
 * in turn; each pass reads "now" from the injected clock, so a shifted simulator clock moves the
 * deadlines too. `tick()` runs one pass (tests call it directly).
 */
import type { Logger } from 'pino';

export interface TimedTask {
  name: string;
  run: () => Promise<unknown>;
}

export class FlowTimers {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly deps: { tasks: TimedTask[]; intervalMs: number; logger: Logger }) {}

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.deps.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pass over every task; a pass already under way is awaited rather than doubled. */
  tick(): Promise<void> {
    this.running ??= (async () => {
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
