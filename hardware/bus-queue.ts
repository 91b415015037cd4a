/**
 * One request at a time on a bus, by priority: unlock commands (`command`) go before door polls
 * (`poll`), first come first served within a priority. The next job starts in the same turn the
 * previous one ends (`done()`): no timer and no promise sits between two frames.
 */
export type BusPriority = 'command' | 'poll';

/** Jobs are started by the queue's `start` when their turn comes; their owner calls `done(job)` once one has ended. */
export class BusQueue<J> {
  private readonly commands: J[] = [];
  private readonly polls: J[] = [];
  private current: J | undefined;
  private pumping = false;

  constructor(private readonly start: (job: J) => void) {}

  get length(): number {
    return this.commands.length + this.polls.length + (this.current ? 1 : 0);
  }

  /** Queue a job; it starts at once if the bus is idle. */
  push(priority: BusPriority, job: J): void {
    (priority === 'command' ? this.commands : this.polls).push(job);
    this.pump();
  }

  /** The job started last has ended: start the next one. */
  done(job: J): void {
    if (this.current !== job) return;
    this.current = undefined;
    this.pump();
  }

  /** Remove and return every job not yet started. */
  drain(): J[] {
    return [...this.commands.splice(0), ...this.polls.splice(0)];
  }

  private pump(): void {
    // A job that ends within its own start() (a closed link) must not start the next one inside it.
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.current) {
        const job = this.commands.shift() ?? this.polls.shift();
        if (!job) break;
        this.current = job;
        this.start(job);
      }
    } finally {
      this.pumping = false;
    }
  }
}
