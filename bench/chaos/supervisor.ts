/**
 * The daemon under test as a child process: started with `node --import tsx bench/chaos/daemon.ts`
 * and an IPC channel, killed with SIGKILL by the fault loop, started again whenever it is gone
 * (also when it exits by itself: a start that fails while the database is down, or a crash, which
 * is counted apart). The wall-clock offset is sent to it over IPC and given again at each start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { SETTINGS_ENV, type ChaosDaemonSettings, type DaemonMessage } from './protocol.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface SupervisorStats {
  starts: number;
  ready: number;
  /** Exits before it was ready (a start during a database fault fails; it is tried again). */
  startFailures: number;
  /** Exits after it was ready that the campaign did not cause: crashes worth reading the log for. */
  unexpectedExits: { atMs: number; code: number | null; signal: string | null; stderr: string }[];
  kills: number;
}

export class DaemonSupervisor {
  private child: ChildProcess | null = null;
  private up = false;
  private port: number | null = null;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private killedByUs = new WeakSet<ChildProcess>();
  private readyWaiters = new Set<() => void>();
  private stderrTail: string[] = [];
  private offsetMs = 0;
  /** After a kill, no start before this (a daemon held down for a while). */
  private holdUntilMs = 0;
  readonly stats: SupervisorStats = { starts: 0, ready: 0, startFailures: 0, unexpectedExits: [], kills: 0 };

  constructor(
    private readonly settings: Omit<ChaosDaemonSettings, 'clockOffsetMs'>,
    private readonly note: (line: string) => void,
  ) {}

  get isUp(): boolean {
    return this.up;
  }

  /** The daemon's HTTP base, or null while it is down. */
  get baseUrl(): string | null {
    return this.up && this.port ? `http://127.0.0.1:${this.port}` : null;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  get clockOffsetMs(): number {
    return this.offsetMs;
  }

  start(): void {
    if (this.child || this.stopping) return;
    this.stats.starts += 1;
    const settings: ChaosDaemonSettings = { ...this.settings, clockOffsetMs: this.offsetMs };
    const child = spawn(process.execPath, ['--import', 'tsx', path.join('bench', 'chaos', 'daemon.ts')], {
      cwd: REPO,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, [SETTINGS_ENV]: JSON.stringify(settings) },
    });
    this.child = child;
    let wasReady = false;
    // Whatever the daemon writes to stderr (an uncaught exception's stack, above all), kept whole.
    const stderrFile = path.join(this.settings.runDir, 'daemon.stderr');
    const started = new Date().toISOString();
    child.stderr?.setEncoding('utf8');
    let header = false;
    child.stderr?.on('data', (chunk: string) => {
      try {
        if (!header) appendFileSync(stderrFile, `=== daemon pid ${child.pid}, started ${started}\n`);
        header = true;
        appendFileSync(stderrFile, chunk);
      } catch {
        // the run directory is gone (the campaign is ending)
      }
      for (const line of chunk.split('\n')) {
        if (!line.trim()) continue;
        this.stderrTail.push(line);
        if (this.stderrTail.length > 30) this.stderrTail.shift();
      }
    });
    child.on('message', (message: DaemonMessage) => {
      if (message?.type === 'ready') {
        wasReady = true;
        this.stats.ready += 1;
        this.port = message.port;
        this.up = true;
        // A clock step sent while it was starting: make sure it has the current one.
        if (child.connected) child.send({ clockOffsetMs: this.offsetMs });
        for (const wake of this.readyWaiters) wake();
        this.readyWaiters.clear();
      }
    });
    child.on('error', (err) => this.note(`daemon: spawn error ${err.message}`));
    child.once('exit', (code, signal) => {
      if (this.child === child) {
        this.child = null;
        this.up = false;
        this.port = null;
      }
      const ours = this.killedByUs.has(child) || this.stopping;
      if (!wasReady) {
        this.stats.startFailures += 1;
      } else if (!ours) {
        const stderr = this.stderrTail.slice(-10).join('\n');
        this.stats.unexpectedExits.push({ atMs: Date.now(), code, signal, stderr });
        this.note(`daemon exited by itself (code ${code}, signal ${signal})${stderr ? `: ${stderr.split('\n').at(-1)}` : ''}`);
      }
      this.stderrTail = [];
      if (!this.stopping) {
        const delay = Math.max(wasReady ? 200 : 500, this.holdUntilMs - Date.now());
        this.restartTimer = setTimeout(() => {
          this.restartTimer = null;
          this.start();
        }, delay);
      }
    });
  }

  /** SIGKILL: a power cut of the daemon. It is started again after `holdMs` (at least 200 ms). */
  kill(holdMs = 0): boolean {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return false;
    this.holdUntilMs = Date.now() + holdMs;
    this.killedByUs.add(child);
    this.stats.kills += 1;
    this.up = false;
    child.kill('SIGKILL');
    return true;
  }

  /** Steps the daemon's wall clock (now, and at every later start). */
  setClockOffset(ms: number): void {
    this.offsetMs = ms;
    const child = this.child;
    if (child && child.connected) child.send({ clockOffsetMs: ms });
  }

  async waitUp(timeoutMs: number): Promise<boolean> {
    if (this.up) return true;
    return new Promise<boolean>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.readyWaiters.delete(wake);
        resolve(this.up);
      }, timeoutMs);
      this.readyWaiters.add(wake);
    });
  }

  /** Orderly stop (SIGTERM: the daemon drains its outbox), SIGKILL if it takes too long. */
  async stop(timeoutMs = 20_000): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  /** For the exit hook: nothing of ours may outlive the campaign. */
  killSync(): void {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    try {
      this.child?.kill('SIGKILL');
    } catch {
      // gone
    }
  }
}
