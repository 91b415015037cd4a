/**
 * systemd's notification protocol (sd_notify) without a native addon, and the watchdog the
 * daemon pets only while its door scan and its database are alive (docs/adr/0016-sd-notify-and-watchdog.md).
 *
 * Node has no Unix datagram sockets, so each notification is handed to `systemd-notify`, which
 * ships with systemd and waits until the manager has taken the message (it uses sd_notify's
 * barrier): the unit needs `NotifyAccess=all`, the sender being a child of the daemon.
 * Outside systemd (no NOTIFY_SOCKET) every call does nothing.
 */
import { execFile } from 'node:child_process';
import type { Logger } from 'pino';
import type { LockBus } from './services/ports.js';

export interface NotifierOptions {
  env?: NodeJS.ProcessEnv;
  /** The helper that sends one datagram per call; default `systemd-notify` from PATH. */
  command?: string;
  logger: Logger;
  /** A send that has not finished after this is abandoned (the helper is killed). */
  timeoutMs?: number;
}

export class SystemdNotifier {
  private readonly env: NodeJS.ProcessEnv;
  private readonly command: string;
  private readonly log: Logger;
  private readonly timeoutMs: number;
  private warned = false;

  constructor(options: NotifierOptions) {
    this.env = options.env ?? process.env;
    this.command = options.command ?? 'systemd-notify';
    this.log = options.logger;
    this.timeoutMs = options.timeoutMs ?? 5_000;
  }

  /** Run by systemd with `Type=notify` (or anything that set NOTIFY_SOCKET). */
  get enabled(): boolean {
    return !!this.env.NOTIFY_SOCKET;
  }

  /**
   * How often to pet the watchdog: a third of `WatchdogSec=` (WATCHDOG_USEC), so that one late or
   * skipped pet is not fatal; undefined when the unit has no watchdog or it is meant for another
   * process (WATCHDOG_PID).
   */
  watchdogIntervalMs(pid = process.pid): number | undefined {
    if (!this.enabled) return undefined;
    const usec = Number(this.env.WATCHDOG_USEC);
    if (!Number.isFinite(usec) || usec <= 0) return undefined;
    const forPid = this.env.WATCHDOG_PID;
    if (forPid && Number(forPid) !== pid) return undefined;
    return Math.max(1, Math.floor(usec / 3 / 1000));
  }

  /** Sends `KEY=value` assignments (READY=1, STATUS=…, WATCHDOG=1, STOPPING=1); never throws. */
  async send(...assignments: string[]): Promise<boolean> {
    if (!this.enabled || assignments.length === 0) return false;
    return new Promise((resolve) => {
      execFile(this.command, assignments, { env: this.env, timeout: this.timeoutMs }, (err, _stdout, stderr) => {
        if (err) {
          // Said once at warn: a missing helper or a refused message would repeat at every pet.
          const level = this.warned ? 'debug' : 'warn';
          this.warned = true;
          this.log[level](
            { err: (err as Error).message, stderr: String(stderr).trim() },
            `${this.command} failed: systemd did not get ${assignments[0]}`,
          );
          resolve(false);
          return;
        }
        resolve(true);
      });
    });
  }
}

/** What the watchdog looks at before each pet. */
export interface WatchdogProbe {
  /** A cheap query answered within the database's health timeout (`Db.ping()`). */
  db(): Promise<boolean>;
  bus: Pick<LockBus, 'snapshot' | 'watching'>;
}

export interface Liveness {
  alive: boolean;
  /** Why not, in words for the log and `systemctl status`. */
  reason?: string;
}

/**
 * The door scan is alive when every tray whose board the driver counts as answering has been read
 * within the watch gap (`LockBus.watching`). A board that fails its polls is declared offline
 * after a few of them, so a board still "online" but unread means the scan is not turning. Trays
 * of offline boards (or of a missing adapter) are not the scan's fault: the driver probes and
 * reopens them itself, and a restart would not bring the wire back.
 */
export function scanLiveness(bus: Pick<LockBus, 'snapshot' | 'watching'>): Liveness {
  const online = bus.snapshot().filter((reading) => reading.online);
  const unread = online.filter((reading) => !bus.watching(reading.tray));
  if (unread.length === 0) return { alive: true };
  const first = unread.slice(0, 5).map((reading) => reading.tray);
  return {
    alive: false,
    reason: `door scan stalled: ${unread.length} tray(s) of answering boards not read within the watch gap (${first.join(', ')}${unread.length > first.length ? ', …' : ''})`,
  };
}

/** The watchdog's decision: pet only when the database answers and the door scan turns. */
export async function liveness(probe: WatchdogProbe): Promise<Liveness> {
  const scan = scanLiveness(probe.bus);
  let dbOk: boolean;
  try {
    dbOk = await probe.db();
  } catch {
    dbOk = false;
  }
  if (!dbOk) return { alive: false, reason: scan.alive ? 'database does not answer' : `database does not answer; ${scan.reason}` };
  return scan;
}

export interface WatchdogOptions {
  notifier: SystemdNotifier;
  probe: WatchdogProbe;
  intervalMs: number;
  logger: Logger;
}

/** Pets systemd's watchdog every `intervalMs` while `liveness()` says alive; start()/stop(). */
export class SystemdWatchdog {
  private timer?: NodeJS.Timeout;
  private checking = false;
  private lastReason?: string;

  constructor(private readonly options: WatchdogOptions) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One check, and a pet if alive; resolves with the decision. */
  async tick(): Promise<Liveness> {
    if (this.checking) return { alive: false, reason: 'previous check still running' };
    this.checking = true;
    try {
      const verdict = await liveness(this.options.probe);
      const { notifier, logger } = this.options;
      if (verdict.alive) {
        if (this.lastReason !== undefined) logger.info('watchdog: alive again, petting resumed');
        this.lastReason = undefined;
        await notifier.send('WATCHDOG=1');
      } else if (verdict.reason !== this.lastReason) {
        this.lastReason = verdict.reason;
        logger.error({ reason: verdict.reason }, `watchdog not petted: ${verdict.reason}; systemd restarts the daemon if this lasts`);
        await notifier.send(`STATUS=watchdog not petted: ${verdict.reason}`);
      }
      return verdict;
    } finally {
      this.checking = false;
    }
  }
}
