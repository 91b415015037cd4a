/**
 * One request at a time on a bus, by priority: unlock commands (`command`) go before door polls
 * (`poll`), first come first served within a priority. The next task starts in the same turn the
 * previous one settles: no timer sits between two frames.
 */
export type BusPriority = 'command' | 'poll';

interface Task {
  run: () => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

export class BusQueue {
  private readonly commands: Task[] = [];
  private readonly polls: Task[] = [];
  private busy = false;

  get length(): number {
    return this.commands.length + this.polls.length + (this.busy ? 1 : 0);
  }

  push<T>(priority: BusPriority, run: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const task: Task = { run, resolve: resolve as (value: unknown) => void, reject };
      (priority === 'command' ? this.commands : this.polls).push(task);
      if (!this.busy) this.next();
    });
  }

  /** Reject every task not yet started. */
  drain(reason: unknown): void {
    for (const task of [...this.commands.splice(0), ...this.polls.splice(0)]) task.reject(reason);
  }

  private next(): void {
    const task = this.commands.shift() ?? this.polls.shift();
    if (!task) {
      this.busy = false;
      return;
    }
    this.busy = true;
    let settled: Promise<unknown>;
    try {
      settled = task.run();
    } catch (err) {
      settled = Promise.reject(err);
    }
    settled.then(
      (value) => {
        task.resolve(value);
        this.next();
      },
      (err) => {
        task.reject(err);
        this.next();
      },
    );
  }
}
