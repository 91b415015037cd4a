/**
 * Runs jobs at monotonic due times (performance.now() ms), in order, with sub-millisecond
 * precision and without busy-waiting: a small worker thread sleeps in `Atomics.wait` until the
 * head job's due time (a timed futex wait, precise to a few tens of µs) and then wakes the main
 * thread with a message. Node's own timers run on a millisecond clock and fire up to ~1 ms off,
 * which the simulator cannot afford at 115200 baud (a whole exchange is under 5 ms). Used by the
 * simulator to send answers exactly when the wire would have delivered them.
 */
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

interface Job {
  dueMs: number;
  run: () => void;
}

/**
 * The sleeper thread: `state[0]` is bumped by the main thread at every new due time, `due[0]` is
 * the due time as an absolute epoch ms (0: nothing due, -1: exit). When it passes, the sleeper
 * posts once and waits for the main thread to set the next one.
 */
const SLEEPER = `
const { parentPort, workerData } = require('node:worker_threads');
const state = new Int32Array(workerData, 0, 2);
const due = new Float64Array(workerData, 8, 1);
for (;;) {
  const seq = Atomics.load(state, 0);
  const at = due[0];
  if (at === -1) break;
  if (at === 0) { Atomics.wait(state, 0, seq); continue; }
  const remaining = at - (performance.timeOrigin + performance.now());
  if (remaining > 0.02) { Atomics.wait(state, 0, seq, remaining); continue; }
  parentPort.postMessage(seq);
  Atomics.wait(state, 0, seq);
}
`;

/** One sleeper thread for the process, started on first use. */
class Sleeper {
  private readonly shared = new SharedArrayBuffer(16);
  private readonly state = new Int32Array(this.shared, 0, 2);
  private readonly due = new Float64Array(this.shared, 8, 1);
  private readonly listeners = new Set<() => void>();
  private worker: Worker | undefined;

  /** Wake `listener` once the earliest requested time has come (absolute epoch ms, 0: none). */
  request(listener: () => void): void {
    this.listeners.add(listener);
  }

  forget(listener: () => void): void {
    this.listeners.delete(listener);
    if (this.listeners.size === 0) this.set(0);
  }

  set(epochMs: number): void {
    if (!this.worker) {
      this.worker = new Worker(SLEEPER, { eval: true, workerData: this.shared });
      this.worker.on('message', () => {
        for (const listener of [...this.listeners]) listener();
      });
      this.worker.unref();
    }
    this.due[0] = epochMs;
    Atomics.add(this.state, 0, 1);
    Atomics.notify(this.state, 0);
  }
}

let sleeper: Sleeper | undefined;
const queues = new Set<DueQueue>();

/** The earliest due time over every queue of the process goes to the one sleeper. */
function rearm(): void {
  let earliest = Infinity;
  for (const queue of queues) earliest = Math.min(earliest, queue.headDueMs);
  sleeper ??= new Sleeper();
  sleeper.set(earliest === Infinity ? 0 : performance.timeOrigin + earliest);
}

export class DueQueue {
  private readonly jobs: Job[] = [];
  private readonly wake = (): void => this.drain();
  private draining = false;

  /** Due time of the first job, or Infinity. */
  get headDueMs(): number {
    return this.jobs.length > 0 ? this.jobs[0].dueMs : Infinity;
  }

  /** Due times must not decrease between calls (one bus serves one frame after the other). */
  at(dueMs: number, run: () => void): void {
    this.jobs.push({ dueMs, run });
    if (this.jobs.length === 1 && !this.draining) {
      queues.add(this);
      sleeper ??= new Sleeper();
      sleeper.request(this.wake);
      this.drain();
    }
  }

  clear(): void {
    this.jobs.length = 0;
    this.release();
  }

  private drain(): void {
    this.draining = true;
    try {
      while (this.jobs.length > 0 && this.jobs[0].dueMs <= performance.now()) this.jobs.shift()!.run();
    } finally {
      this.draining = false;
    }
    if (this.jobs.length === 0) this.release();
    else rearm();
  }

  private release(): void {
    if (!queues.delete(this)) return;
    sleeper?.forget(this.wake);
    if (queues.size > 0) rearm();
  }
}
