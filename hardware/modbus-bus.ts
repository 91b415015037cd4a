/**
 * The Modbus RTU driver of the `LockBus` port: lock boards on one or more RS-485 buses (a serial
 * adapter or an RS-485/Ethernet gateway per bus).
 *
 * - Door inputs are read with FC02 in a continuous scan of every board, debounced. A board with a
 *   tray in use (released, or a door open) is polled hot: after every two other polls (ADR 0015).
 * - A board failing `offlineAfterFailures` polls in a row is offline (`fault`), then probed every
 *   `offlineProbeMs` without retries; its first answer brings it back (`recovered`).
 * - A closed link is reopened after `reopenDelayMs`, endlessly; its boards are offline meanwhile.
 * - Unlocks go through the current budget of the lock's power supply, then ahead of polls on the
 *   bus queue.
 */
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { HardwareConfig } from '../src/config/types.js';
import type { BusSpec, TraySpec } from '../src/domain/cabinet.js';
import { systemClock, type Clock } from '../src/domain/clock.js';
import { AppError, isAppError } from '../src/domain/errors.js';
import type { BoardHealth, BusFaultCause, BusHealth, BusObserver, LockBus, LockBusEvents, TrayReading } from '../src/services/ports.js';
import { DoorDebouncer } from './door-debouncer.js';
import {
  BusError,
  ModbusLink,
  type AnswerReader,
  type ModbusRequest,
  type RequestOptions,
  type SerialPortConstructor,
} from './modbus-link.js';
import { LockOutputs, type BoardRuntime } from './modbus-outputs.js';
import { PowerBudget } from './power-budget.js';
import { framingOf, READ_BITS_REQUEST_BYTES, readBitsAnswerBytes, silenceMs, transactionWireTimeMs } from './rtu-frame.js';

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
  /** Told of every scan, exchange and lock frame (the metrics). */
  observer?: BusObserver;
  /** Builds serial ports (default: serialport's `SerialPort`; tests give its mock binding's). */
  serialPort?: SerialPortConstructor;
}

/** The start-up scan (one failed poll takes a board offline: there is no earlier reading) or a later one. */
type ScanPhase = 'initial' | 'running';

interface BusRuntime {
  id: string;
  link: ModbusLink;
  boards: BoardRuntime[];
  lastScanMs?: number;
  /** Continuous scan: the next board of the round, the polls since the last hot poll, the round's start. */
  cursor: number;
  sinceHot: number;
  hotCursor: number;
  round: number;
  roundStartedMs: number;
  roundPolled: number;
}

/** Cold polls between two hot ones: the rest of the cabinet is scanned within 1.5× its floor. */
const COLD_POLLS_PER_HOT = 2;

export class ModbusLockBus extends EventEmitter<LockBusEvents> implements LockBus {
  private readonly config: HardwareConfig;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly buses = new Map<string, BusRuntime>();
  private readonly boards = new Map<string, BoardRuntime>();
  private readonly trays = new Map<number, TraySpec>();
  private readonly doors = new Map<number, DoorDebouncer>();
  private readonly power: PowerBudget;
  private readonly hotHoldMs: number;
  /** Each board's door poll, built once: the request (encoded once by the link) and its options online and offline. */
  private readonly polls = new Map<BoardRuntime, { request: ModbusRequest; online: RequestOptions; probe: RequestOptions }>();
  /** performance.now() until which a tray counts as released (0: not released). */
  private readonly releasedUntil = new Map<number, number>();
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
    this.power = new PowerBudget(this.config);
    this.hotHoldMs = this.config.hotHoldMs ?? DEFAULT_HOT_HOLD_MS;
    this.outputs = new LockOutputs(this.config, this.log);
    this.watchGapMs = this.config.watchGapMs ?? DEFAULT_WATCH_GAP_MS;
    const { map } = this.config;
    for (const bus of map.buses) {
      const units = new Map(map.boards.filter((b) => b.bus === bus.id).map((b) => [b.unitId, b.id]));
      const runtime: BusRuntime = {
        id: bus.id,
        boards: [],
        link: new ModbusLink(bus, {
          logger: this.log,
          reopenDelayMs: this.config.reopenDelayMs,
          endpoint: options.endpoints ? () => endpointsOf(options.endpoints!).get(bus.id) : undefined,
          events: { up: () => this.onLinkUp(bus.id), down: (cause) => this.onLinkDown(bus.id, cause) },
          observer: options.observer,
          boardOf: (unit) => units.get(unit) ?? `${bus.id}/${unit}`,
          serialPort: options.serialPort,
        }),
        cursor: 0,
        sinceHot: 0,
        hotCursor: 0,
        round: 0,
        roundStartedMs: 0,
        roundPolled: 0,
      };
      this.buses.set(bus.id, runtime);
    }
    for (const spec of map.boards) {
      const bus = this.buses.get(spec.bus);
      if (!bus) throw new AppError('CONFIG_INVALID', `board ${spec.id}: unknown bus "${spec.bus}"`);
      const board: BoardRuntime = {
        spec,
        link: bus.link,
        trays: [],
        online: true,
        failures: 0,
        nextProbeAtMs: 0,
        outputsCleared: false,
        releasedUntilMs: 0,
        openDoors: 0,
        scanRound: -1,
        pollWireMs: exchangeWireMs(
          map.buses.find((b) => b.id === spec.bus)!,
          spec.inputs,
        ),
      };
      bus.boards.push(board);
      this.boards.set(spec.id, board);
    }
    this.power.check([...this.boards.keys()]);
    for (const tray of map.trays) {
      const board = this.boards.get(tray.board);
      if (!board) throw new AppError('CONFIG_INVALID', `tray ${tray.number}: unknown board "${tray.board}"`);
      board.trays.push(tray);
      this.trays.set(tray.number, tray);
      this.doors.set(tray.number, new DoorDebouncer(this.config.debounceMs));
    }
    for (const board of this.boards.values()) {
      const read: AnswerReader = (bytes, offset) => this.onPollAnswered(board, bytes, offset);
      this.polls.set(board, {
        request: { fc: 2, unit: board.spec.unitId, address: board.spec.inputBase ?? 0, count: board.spec.inputs },
        online: { priority: 'poll', read },
        // An offline board is probed without retries, so that the others are still scanned at full speed.
        probe: { priority: 'poll', retries: 0, read },
      });
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
    const calledMs = performance.now();
    const tray = this.trays.get(trayNumber);
    if (!tray) throw new AppError('TRAY_NOT_FOUND', `tray ${trayNumber} is not in the cabinet map`);
    const board = this.boards.get(tray.board)!;
    if (!this.running || this.stopping) {
      throw new AppError('BUS_UNAVAILABLE', `unlock tray ${trayNumber}: the lock bus is not running`, { tray: trayNumber });
    }
    this.assertOnline(board, trayNumber);
    const observer = this.options.observer;
    // Once the frame is on the wire the coil may have fired, whatever ends the exchange (a link
    // closed after the write included): only a command never written gives its current slot back.
    let written = false;
    const onWrite = (): void => {
      written = true;
      // From now on the door may open: its board is polled hot until it has, or until hotHoldMs.
      board.releasedUntilMs = performance.now() + this.hotHoldMs;
      this.releasedUntil.set(trayNumber, board.releasedUntilMs);
      observer?.lockFrame(trayNumber, performance.now() - calledMs);
    };
    try {
      await this.power.limiterFor(board.spec.id).run(
        () => this.pulse(board, tray, onWrite),
        (err) =>
          written || !(isAppError(err) && (err.code === 'BOARD_OFFLINE' || (err instanceof BusError && err.faultCause === 'port_closed'))),
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

  /**
   * The continuous scan of one bus. Each turn polls one board: a board whose changed reading is due
   * for confirmation first, then a hot board after every `COLD_POLLS_PER_HOT` others, else the next
   * board of the round. A round ends when every board had its turn; `scanIntervalMs` pauses between
   * rounds unless a board is hot or a reading awaits confirmation.
   */
  private async scanLoop(bus: BusRuntime): Promise<void> {
    this.beginRound(bus);
    while (!this.stopping) {
      if (!bus.link.open) {
        await this.sleep(Math.max(this.config.scanIntervalMs, 10));
        continue;
      }
      const board = this.nextBoard(bus);
      if (board) {
        await this.pollBoard(board, 'running');
        this.notePolled(bus, board);
        continue;
      }
      // The round is over.
      if (bus.roundPolled === bus.boards.length) this.recordScan(bus, performance.now() - bus.roundStartedMs);
      const polled = bus.roundPolled;
      const busy = this.anyHotOrPending(bus);
      if (!busy || polled === 0) await this.sleep(polled === 0 ? Math.max(this.config.scanIntervalMs, 10) : this.config.scanIntervalMs);
      this.beginRound(bus);
    }
  }

  private beginRound(bus: BusRuntime): void {
    bus.round += 1;
    bus.cursor = 0;
    bus.roundPolled = 0;
    bus.roundStartedMs = performance.now();
  }

  private notePolled(bus: BusRuntime, board: BoardRuntime): void {
    if (board.scanRound !== bus.round) {
      board.scanRound = bus.round;
      bus.roundPolled += 1;
    }
  }

  /** The next board to poll in this round, or undefined once every board has had its turn. */
  private nextBoard(bus: BusRuntime): BoardRuntime | undefined {
    const nowMs = performance.now();
    const boards = bus.boards;
    // A changed reading is confirmed by the first poll whose answer comes debounceMs after it: the
    // answer cannot come sooner than the exchange's wire time.
    for (let i = 0; i < boards.length; i++) {
      const board = boards[i];
      const since = board.candidateSinceMs;
      if (board.online && since !== undefined && nowMs + board.pollWireMs - since >= this.config.debounceMs) return board;
    }
    if (bus.sinceHot >= COLD_POLLS_PER_HOT) {
      for (let n = 0; n < boards.length; n++) {
        const board = boards[(bus.hotCursor + n) % boards.length];
        if (board.online && this.isHot(board, nowMs)) {
          bus.hotCursor = (boards.indexOf(board) + 1) % boards.length;
          bus.sinceHot = 0;
          return board;
        }
      }
    }
    while (bus.cursor < boards.length) {
      const board = boards[bus.cursor++];
      if (board.scanRound === bus.round) continue;
      if (!board.online && nowMs < board.nextProbeAtMs) continue;
      bus.sinceHot += 1;
      return board;
    }
    return undefined;
  }

  private isHot(board: BoardRuntime, nowMs: number): boolean {
    return board.openDoors > 0 || board.releasedUntilMs > nowMs;
  }

  private anyHotOrPending(bus: BusRuntime): boolean {
    const nowMs = performance.now();
    return bus.boards.some((b) => b.online && (this.isHot(b, nowMs) || b.candidateSinceMs !== undefined));
  }

  private recordScan(bus: BusRuntime, ms: number): void {
    bus.lastScanMs = ms;
    this.options.observer?.scan(bus.id, ms);
  }

  /** Poll every board of a bus in turn (start-up and `scanOnce()`); returns how many polls were made. */
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
    if (polled === bus.boards.length) this.recordScan(bus, performance.now() - started);
    return polled;
  }

  private async pollBoard(board: BoardRuntime, phase: ScanPhase): Promise<void> {
    const poll = this.polls.get(board)!;
    try {
      await board.link.request(poll.request, board.online ? poll.online : poll.probe);
    } catch (err) {
      this.onPollFailed(board, err, phase);
    }
  }

  /** The door inputs of a board, read where they lie in the answer (bit i of the data = input i). */
  private onPollAnswered(board: BoardRuntime, bytes: Buffer, offset: number): void {
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
    let openDoors = 0;
    let releasedUntilMs = 0;
    let pendingSince: number | undefined;
    for (const tray of board.trays) {
      const input = tray.doorInput;
      const open = input < board.spec.inputs && ((bytes[offset + (input >> 3)] >> (input & 7)) & 1) === 1;
      const door = this.doors.get(tray.number)!;
      const changed = door.sample(open, nowMs);
      if (changed && changed !== 'unknown') {
        // An opened door has used its release.
        if (changed === 'open') this.releasedUntil.set(tray.number, 0);
        this.emit('door', { tray: tray.number, open: changed === 'open', at: this.clock.now() });
      }
      if (door.state === 'open') openDoors += 1;
      const released = this.releasedUntil.get(tray.number);
      if (released !== undefined && released > releasedUntilMs) releasedUntilMs = released;
      const since = door.pendingSinceMs;
      if (since !== undefined && (pendingSince === undefined || since < pendingSince)) pendingSince = since;
    }
    board.openDoors = openDoors;
    board.candidateSinceMs = pendingSince;
    board.releasedUntilMs = releasedUntilMs;
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

  private async pulse(board: BoardRuntime, tray: TraySpec, onWrite: () => void): Promise<void> {
    if (this.stopping) throw new AppError('BUS_UNAVAILABLE', `unlock tray ${tray.number}: the lock bus is stopping`);
    this.assertOnline(board, tray.number);
    await this.outputs.pulse(board, tray, onWrite);
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

/** A released tray's board is polled hot this long unless its door opens first (config `hardware.hotHoldMs`). */
export const DEFAULT_HOT_HOLD_MS = 60_000;

/** Wire time from sending a door poll to having its answer (request, t3.5, answer), ms. */
function exchangeWireMs(bus: BusSpec, inputs: number): number {
  const framing = framingOf(bus);
  return (
    transactionWireTimeMs(READ_BITS_REQUEST_BYTES, readBitsAnswerBytes(inputs), bus.baudRate, framing) - silenceMs(bus.baudRate, framing)
  );
}

function endpointsOf(
  endpoints: Map<string, { host: string; port: number }> | (() => Map<string, { host: string; port: number }>),
): Map<string, { host: string; port: number }> {
  return typeof endpoints === 'function' ? endpoints() : endpoints;
}
