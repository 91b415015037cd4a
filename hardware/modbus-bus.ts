/**
 * The Modbus RTU driver of the `LockBus` port: lock boards on one or more RS-485 buses (a serial
 * adapter or an RS-485/Ethernet gateway per bus).
 *
 * - Door inputs are read with FC02 in a continuous scan of every board, debounced.
 * - A board failing `offlineAfterFailures` polls in a row is offline (`fault`), then probed every
 *   `offlineProbeMs` without retries; its first answer brings it back (`recovered`).
 * - A closed link is reopened after `reopenDelayMs`, endlessly; its boards are offline meanwhile.
 * - Unlocks go through the solenoid limiter, then ahead of polls on the bus queue.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { HardwareConfig } from '../src/config/types.js';
import type { TraySpec } from '../src/domain/cabinet.js';
import { systemClock, type Clock } from '../src/domain/clock.js';
import { AppError, isAppError } from '../src/domain/errors.js';
import type { BoardHealth, BusFaultCause, BusHealth, LockBus, LockBusEvents, TrayReading } from '../src/services/ports.js';
import { DoorDebouncer } from './door-debouncer.js';
import { BusError, ModbusLink, type ModbusRequest } from './modbus-link.js';
import { LockOutputs, type BoardRuntime } from './modbus-outputs.js';
import { PulseLimiter } from './pulse-limiter.js';

export interface ModbusLockBusOptions {
  config: HardwareConfig;
  logger: Logger;
  clock?: Clock;
  /**
   * Per bus id, a TCP endpoint to use instead of the map's path/host (the simulator's); a function
   * is asked at every (re)open.
   */
  endpoints?: Map<string, { host: string; port: number }> | (() => Map<string, { host: string; port: number }>);
  /** Run before the links open / after they closed (the simulator's own start and stop). */
  beforeStart?: () => Promise<void>;
  afterStop?: () => Promise<void>;
  /** Keep scanning after start() (default true). False leaves scanning to `scanOnce()`. */
  continuousScan?: boolean;
}

/** The start-up scan (one failed poll takes a board offline: there is no earlier reading) or a later one. */
type ScanPhase = 'initial' | 'running';

interface BusRuntime {
  link: ModbusLink;
  boards: BoardRuntime[];
  lastScanMs?: number;
}

export class ModbusLockBus extends EventEmitter<LockBusEvents> implements LockBus {
  private readonly config: HardwareConfig;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly buses = new Map<string, BusRuntime>();
  private readonly boards = new Map<string, BoardRuntime>();
  private readonly trays = new Map<number, TraySpec>();
  private readonly doors = new Map<number, DoorDebouncer>();
  private readonly limiter: PulseLimiter;
  private readonly watchGapMs: number;
  private readonly outputs: LockOutputs;
  private readonly sleepers = new Set<{ timer: NodeJS.Timeout | NodeJS.Immediate; wake: () => void }>();
  private scanLoops: Promise<void>[] = [];
  private running = false;
  private stopping = false;

  constructor(private readonly options: ModbusLockBusOptions) {
    super();
    this.config = options.config;
    this.log = options.logger;
    this.clock = options.clock ?? systemClock;
    this.limiter = PulseLimiter.fromConfig(this.config);
    this.outputs = new LockOutputs(this.config, this.log);
    this.watchGapMs = this.config.watchGapMs ?? DEFAULT_WATCH_GAP_MS;
    const { map } = this.config;
    for (const bus of map.buses) {
      const runtime: BusRuntime = {
        boards: [],
        link: new ModbusLink(bus, {
          logger: this.log,
          reopenDelayMs: this.config.reopenDelayMs,
          endpoint: options.endpoints ? () => endpointsOf(options.endpoints!).get(bus.id) : undefined,
          events: { up: () => this.onLinkUp(bus.id), down: (cause) => this.onLinkDown(bus.id, cause) },
        }),
      };
      this.buses.set(bus.id, runtime);
    }
    for (const spec of map.boards) {
      const bus = this.buses.get(spec.bus);
      if (!bus) throw new AppError('CONFIG_INVALID', `board ${spec.id}: unknown bus "${spec.bus}"`);
      const board: BoardRuntime = { spec, link: bus.link, trays: [], online: true, failures: 0, nextProbeAtMs: 0, outputsCleared: false };
      bus.boards.push(board);
      this.boards.set(spec.id, board);
    }
    for (const tray of map.trays) {
      const board = this.boards.get(tray.board);
      if (!board) throw new AppError('CONFIG_INVALID', `tray ${tray.number}: unknown board "${tray.board}"`);
      board.trays.push(tray);
      this.trays.set(tray.number, tray);
      this.doors.set(tray.number, new DoorDebouncer(this.config.debounceMs));
    }
  }

  /** Open every link, switch every output off, read every door once, then keep scanning. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.stopping = false;
    this.outputs.start();
    await this.options.beforeStart?.();
    await Promise.all([...this.buses.values()].map((bus) => bus.link.start()));
    await Promise.all([...this.boards.values()].map((board) => this.outputs.allOff(board)));
    await this.scanOnce({ initial: true });
    if (this.options.continuousScan !== false) {
      this.scanLoops = [...this.buses.values()].map((bus) => this.scanLoop(bus));
    }
    this.emit('health', this.health());
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.stopping = true;
    for (const sleeper of this.sleepers) sleeper.wake();
    await Promise.all(this.scanLoops);
    this.scanLoops = [];
    // Outputs we switched on ourselves must not stay on.
    await this.outputs.stop();
    await Promise.all([...this.buses.values()].map((bus) => bus.link.stop()));
    await this.options.afterStop?.();
    this.running = false;
  }

  async unlock(trayNumber: number): Promise<void> {
    const tray = this.trays.get(trayNumber);
    if (!tray) throw new AppError('TRAY_NOT_FOUND', `tray ${trayNumber} is not in the cabinet map`);
    const board = this.boards.get(tray.board)!;
    if (!this.running || this.stopping) {
      throw new AppError('BUS_UNAVAILABLE', `unlock tray ${trayNumber}: the lock bus is not running`, { tray: trayNumber });
    }
    this.assertOnline(board, trayNumber);
    try {
      await this.limiter.run(
        () => this.pulse(board, tray),
        (err) => !(isAppError(err) && (err.code === 'BOARD_OFFLINE' || (err instanceof BusError && err.faultCause === 'port_closed'))),
      );
    } catch (err) {
      if (err instanceof Error && !err.message.startsWith('unlock tray')) err.message = `unlock tray ${trayNumber}: ${err.message}`;
      throw err;
    }
  }

  snapshot(): TrayReading[] {
    return [...this.trays.values()]
      .sort((a, b) => a.number - b.number)
      .map((tray) => ({
        tray: tray.number,
        door: this.doors.get(tray.number)!.state,
        online: this.boards.get(tray.board)!.online,
      }));
  }

  watching(trayNumber: number): boolean {
    const tray = this.trays.get(trayNumber);
    if (!tray || !this.running || this.stopping) return false;
    const board = this.boards.get(tray.board)!;
    return board.online && board.lastReadMs !== undefined && performance.now() - board.lastReadMs <= this.watchGapMs;
  }

  health(): BusHealth {
    const boards: BoardHealth[] = [...this.boards.values()].map((board) => ({
      id: board.spec.id,
      bus: board.spec.bus,
      online: board.online,
      lastError: board.lastError,
      lastSeenAt: board.lastSeenAt,
    }));
    const buses = [...this.buses.values()].map((bus) => ({ id: bus.link.spec.id, open: bus.link.open, lastError: bus.link.lastError }));
    const scans = [...this.buses.values()].map((bus) => bus.lastScanMs).filter((ms): ms is number => ms !== undefined);
    return {
      ok: buses.every((bus) => bus.open) && boards.every((board) => board.online),
      buses,
      boards,
      lastScanMs: scans.length > 0 ? Math.max(...scans) : undefined,
    };
  }

  /** One full door scan of every bus (buses in parallel); resolves with its duration in ms. */
  async scanOnce(opts: { initial?: boolean } = {}): Promise<number> {
    const started = performance.now();
    await Promise.all([...this.buses.values()].map((bus) => this.scanBus(bus, opts.initial === true ? 'initial' : 'running')));
    return performance.now() - started;
  }

  private async scanLoop(bus: BusRuntime): Promise<void> {
    while (!this.stopping) {
      const polled = await this.scanBus(bus, 'running');
      if (this.stopping) break;
      // Nothing to poll (link down, every board waiting for its probe): do not spin.
      const pause = polled === 0 ? Math.max(this.config.scanIntervalMs, 10) : this.config.scanIntervalMs;
      await this.sleep(pause);
    }
  }

  /** Poll every board of a bus in turn; returns how many polls were made. */
  private async scanBus(bus: BusRuntime, phase: ScanPhase): Promise<number> {
    const started = performance.now();
    let polled = 0;
    for (const board of bus.boards) {
      if (this.stopping) return polled;
      if (!bus.link.open) break;
      if (!board.online && performance.now() < board.nextProbeAtMs) continue;
      polled += 1;
      await this.pollBoard(board, phase);
    }
    if (polled === bus.boards.length) bus.lastScanMs = performance.now() - started;
    return polled;
  }

  private async pollBoard(board: BoardRuntime, phase: ScanPhase): Promise<void> {
    const request: ModbusRequest = { fc: 2, unit: board.spec.unitId, address: board.spec.inputBase ?? 0, count: board.spec.inputs };
    let bits: boolean[] | undefined;
    try {
      bits = await board.link.request(request, { priority: 'poll', retries: board.online ? undefined : 0 });
    } catch (err) {
      this.onPollFailed(board, err, phase);
      return;
    }
    this.onPollAnswered(board, bits ?? []);
  }

  private onPollAnswered(board: BoardRuntime, bits: boolean[]): void {
    const nowMs = performance.now();
    const previousReadMs = board.lastReadMs;
    const wasOffline = !board.online;
    board.failures = 0;
    board.lastSeenAt = this.clock.now();
    board.lastReadMs = nowMs;
    if (!board.outputsCleared) void this.outputs.allOff(board);
    if (!board.online) {
      board.online = true;
      board.lastError = undefined;
      this.log.info({ board: board.spec.id }, 'board answers again');
      this.emit('recovered', { board: board.spec.id, trays: board.trays.map((t) => t.number), at: this.clock.now() });
      this.emit('health', this.health());
    }
    for (const tray of board.trays) {
      const changed = this.doors.get(tray.number)!.sample(bits[tray.doorInput] === true, nowMs);
      if (changed && changed !== 'unknown') {
        this.emit('door', { tray: tray.number, open: changed === 'open', at: this.clock.now() });
      }
    }
    // After the samples, so that a listener reconciling the gap reads the doors as they are now.
    const unwatchedMs = previousReadMs === undefined ? undefined : nowMs - previousReadMs;
    if (previousReadMs === undefined ? wasOffline : wasOffline || unwatchedMs! > this.watchGapMs) {
      this.emit('gap', {
        board: board.spec.id,
        trays: board.trays.map((t) => t.number),
        unwatchedMs: Math.round(unwatchedMs ?? 0),
        at: this.clock.now(),
      });
    }
  }

  private onPollFailed(board: BoardRuntime, err: unknown, phase: ScanPhase): void {
    const busError = err instanceof BusError ? err : undefined;
    board.lastError = err instanceof Error ? err.message : String(err);
    if (!board.online) {
      board.nextProbeAtMs = performance.now() + this.config.offlineProbeMs;
      return;
    }
    board.failures += 1;
    if (this.log.isLevelEnabled('debug'))
      this.log.debug({ board: board.spec.id, failures: board.failures, err: board.lastError }, 'poll failed');
    // At start-up there is no earlier reading to fall back on: one failed poll is enough.
    if (phase === 'initial' || board.failures >= this.config.offlineAfterFailures) {
      this.markOffline(board, busError?.faultCause ?? 'io', board.lastError);
    }
  }

  private markOffline(board: BoardRuntime, cause: BusFaultCause, message: string): void {
    board.nextProbeAtMs = performance.now() + this.config.offlineProbeMs;
    board.lastError = message;
    if (!board.online) return;
    board.online = false;
    this.log.warn({ board: board.spec.id, cause, err: message }, 'board offline');
    this.emit('fault', { board: board.spec.id, cause, message, trays: board.trays.map((t) => t.number), at: this.clock.now() });
    this.emit('health', this.health());
  }

  private onLinkDown(busId: string, cause: string): void {
    const bus = this.buses.get(busId)!;
    for (const board of bus.boards) this.markOffline(board, 'port_closed', cause);
    this.emit('health', this.health());
  }

  private onLinkUp(busId: string): void {
    // Probe the boards at once; each comes back with its first answer.
    for (const board of this.buses.get(busId)!.boards) board.nextProbeAtMs = 0;
    this.emit('health', this.health());
  }

  private assertOnline(board: BoardRuntime, trayNumber: number): void {
    if (!board.online) {
      throw new AppError(
        'BOARD_OFFLINE',
        `unlock tray ${trayNumber}: board ${board.spec.id} (bus ${board.spec.bus} unit ${board.spec.unitId}) is offline`,
        { tray: trayNumber, board: board.spec.id, lastError: board.lastError },
      );
    }
  }

  private async pulse(board: BoardRuntime, tray: TraySpec): Promise<void> {
    if (this.stopping) throw new AppError('BUS_UNAVAILABLE', `unlock tray ${tray.number}: the lock bus is stopping`);
    this.assertOnline(board, tray.number);
    await this.outputs.pulse(board, tray);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sleeper = {
        timer: ms > 0 ? setTimeout(() => done(), ms) : setImmediate(() => done()),
        wake: () => done(),
      };
      const done = (): void => {
        if (!this.sleepers.delete(sleeper)) return;
        if (ms > 0) clearTimeout(sleeper.timer as NodeJS.Timeout);
        else clearImmediate(sleeper.timer as NodeJS.Immediate);
        resolve();
      };
      this.sleepers.add(sleeper);
    });
  }
}

/** Doors unread longer than this are a gap in the watch (config `hardware.watchGapMs`). */
export const DEFAULT_WATCH_GAP_MS = 1500;

function endpointsOf(
  endpoints: Map<string, { host: string; port: number }> | (() => Map<string, { host: string; port: number }>),
): Map<string, { host: string; port: number }> {
  return typeof endpoints === 'function' ? endpoints() : endpoints;
}
