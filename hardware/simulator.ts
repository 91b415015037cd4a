/**
 * The simulated cabinet: a real Modbus RTU slave for every board of the map, reached over TCP the
 * way an RS-485/Ethernet gateway in transparent mode is reached (raw RTU frames with their CRC in
 * the TCP stream, one listener per bus). Doors are moved through this API; locks are released only
 * by the pulses the controller sends. Faults can be injected per board.
 *
 * This file holds the cabinet itself: trays, doors, latches, paper, the pulse log and the board
 * faults; the listeners and the answering on the wire are in simulator-server.ts.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { CabinetMap, TraySpec } from '../src/domain/cabinet.js';
import { systemClock, type Clock } from '../src/domain/clock.js';
import { AppError } from '../src/domain/errors.js';
import { SimBoard, type PulseKind } from './simulator-board.js';
import { SIM_FAULT_KINDS, SimBusServer, type SimFault, type SimFaultKind } from './simulator-server.js';

export { SIM_FAULT_KINDS, type SimFault, type SimFaultKind } from './simulator-server.js';

export interface SimTrayState {
  tray: number;
  board: string;
  channel: number;
  door: 'open' | 'closed';
  /** The latch was released by a pulse and the door has not been opened since. */
  released: boolean;
  /** Door closed and latch holding it. */
  latched: boolean;
  /** Lock pulses this tray received since the simulator was created. */
  pulses: number;
}

export interface PulseRecord {
  board: string;
  unitId: number;
  channel: number;
  /** Tray whose lock is on that channel, or null for an unmapped channel. */
  tray: number | null;
  at: Date;
  /** performance.now() at the pulse, for precise spacing checks. */
  atMs: number;
  kind: PulseKind;
  /** Board-timed pulse length for `flash`. */
  durationMs?: number;
}

export interface SetDoorResult {
  ok: boolean;
  door: 'open' | 'closed';
  reason?: 'latched';
}

export interface SimBoardState {
  id: string;
  bus: string;
  unitId: number;
  fault: SimFault;
  coils: boolean[];
}

export interface CabinetSimulatorOptions {
  map: CabinetMap;
  /** Released latch re-locks after this long if the door is not opened, in ms. */
  latchHoldMs: number;
  /** Send each answer after the wire time of request and answer at the bus baud rate. */
  paceWireTime?: boolean;
  host?: string;
  /** Port per bus id; 0 or absent = any free port. */
  ports?: Record<string, number>;
  clock?: Clock;
  logger?: Logger;
  /** Randomness for `garbage` answers. */
  random?: () => number;
}

interface TrayModel {
  spec: TraySpec;
  door: 'open' | 'closed';
  released: boolean;
  releaseTimer?: NodeJS.Timeout;
  pulses: number;
  /** Paper model: dossiers lying in the tray (nothing the boards can sense; the fault campaign's truth). */
  paper: number;
}

export class CabinetSimulator {
  private readonly boards = new Map<string, SimBoard>();
  private readonly faults = new Map<string, SimFault>();
  private readonly traysByNumber = new Map<number, TrayModel>();
  private readonly buses = new Map<string, SimBusServer>();
  private readonly pulseLog: PulseRecord[] = [];
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly host: string;
  private started = false;

  constructor(private readonly options: CabinetSimulatorOptions) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.host = options.host ?? '127.0.0.1';
    const hooks = {
      readInputs: (board: SimBoard) => this.readInputs(board),
      onPulse: (board: SimBoard, channel: number, kind: PulseKind, durationMs?: number) => this.onPulse(board, channel, kind, durationMs),
    };
    for (const spec of options.map.boards) {
      this.boards.set(spec.id, new SimBoard(spec, hooks));
      this.faults.set(spec.id, { kind: 'none' });
    }
    for (const spec of options.map.trays) {
      this.traysByNumber.set(spec.number, { spec, door: 'closed', released: false, pulses: 0, paper: 0 });
    }
  }

  /** Open one TCP listener per bus. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    for (const bus of this.options.map.buses) {
      const server = new SimBusServer({
        bus,
        boards: [...this.boards.values()].filter((board) => board.spec.bus === bus.id),
        host: this.host,
        port: this.options.ports?.[bus.id] ?? 0,
        paceWireTime: this.options.paceWireTime === true,
        faultOf: (board) => this.faults.get(board.spec.id)!,
        random: this.random,
        logger: this.options.logger,
      });
      this.buses.set(bus.id, server);
      await server.listen();
    }
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    for (const server of this.buses.values()) await server.close();
    this.buses.clear();
    for (const board of this.boards.values()) board.powerCycle();
    for (const tray of this.traysByNumber.values()) this.relatch(tray);
  }

  /** Where each bus listens: the address an RS-485/Ethernet gateway would have. */
  endpoints(): Map<string, { host: string; port: number }> {
    const out = new Map<string, { host: string; port: number }>();
    for (const server of this.buses.values()) out.set(server.id, { host: this.host, port: server.port });
    return out;
  }

  /**
   * Move a door. Opening works only while the latch is released (or with `force`, a door forced
   * open); opening consumes the release, closing re-latches.
   */
  setDoor(trayNumber: number, open: boolean, opts: { force?: boolean } = {}): SetDoorResult {
    const tray = this.tray(trayNumber);
    if (!open) {
      tray.door = 'closed';
      this.relatch(tray);
      return { ok: true, door: 'closed' };
    }
    if (tray.door === 'open') return { ok: true, door: 'open' };
    if (!tray.released && !opts.force) return { ok: false, door: 'closed', reason: 'latched' };
    tray.door = 'open';
    this.relatch(tray);
    return { ok: true, door: 'open' };
  }

  /**
   * Paper model (for the fault campaign, bench/chaos.ts): a hand puts a dossier in a tray. Only
   * possible while its door is physically open; returns false otherwise. The boards sense nothing
   * of it: the controller learns of paper only from the doors.
   */
  putPaper(trayNumber: number): boolean {
    const tray = this.tray(trayNumber);
    if (tray.door !== 'open') return false;
    tray.paper += 1;
    return true;
  }

  /** A hand takes one dossier out; false if the door is shut or the tray holds none. */
  takePaper(trayNumber: number): boolean {
    const tray = this.tray(trayNumber);
    if (tray.door !== 'open' || tray.paper === 0) return false;
    tray.paper -= 1;
    return true;
  }

  /** Dossiers lying in the tray now. */
  paper(trayNumber: number): number {
    return this.tray(trayNumber).paper;
  }

  trays(): SimTrayState[] {
    return [...this.traysByNumber.values()]
      .sort((a, b) => a.spec.number - b.spec.number)
      .map((tray) => ({
        tray: tray.spec.number,
        board: tray.spec.board,
        channel: tray.spec.lockChannel,
        door: tray.door,
        released: tray.released,
        latched: tray.door === 'closed' && !tray.released,
        pulses: tray.pulses,
      }));
  }

  pulses(): PulseRecord[] {
    return this.pulseLog.map((record) => ({ ...record }));
  }

  clearPulses(): void {
    this.pulseLog.length = 0;
  }

  boardStates(): SimBoardState[] {
    return [...this.boards.values()].map((board) => ({
      id: board.spec.id,
      bus: board.spec.bus,
      unitId: board.spec.unitId,
      fault: { ...this.faults.get(board.spec.id)! },
      coils: [...board.coils],
    }));
  }

  /** Inject a fault; leaving `offline` powers the board back up with every output off. */
  setFault(boardId: string, fault: SimFaultKind | SimFault, opts: { delayMs?: number } = {}): void {
    const board = this.board(boardId);
    const next: SimFault = typeof fault === 'string' ? { kind: fault, delayMs: opts.delayMs } : { ...fault };
    if (!SIM_FAULT_KINDS.includes(next.kind)) {
      throw new AppError('VALIDATION_FAILED', `unknown fault "${String(next.kind)}"; one of ${SIM_FAULT_KINDS.join(', ')}`);
    }
    const previous = this.faults.get(boardId)!;
    this.faults.set(boardId, next);
    if (previous.kind === 'offline' && next.kind !== 'offline') this.powerCycle(board);
    this.options.logger?.info({ board: boardId, fault: next }, 'simulated board fault set');
  }

  /** Force an output as a previous run might have left it (no lock pulse is recorded). */
  setCoil(boardId: string, channel: number, on: boolean): void {
    this.board(boardId).forceCoil(channel, on);
  }

  /**
   * Drop every connection of a bus, as when the adapter is unplugged; with `refuseMs`, refuse new
   * connections for that long (the listener is closed and reopened on the same port).
   */
  async closeConnections(busId: string, opts: { refuseMs?: number } = {}): Promise<void> {
    const server = this.buses.get(busId);
    if (!server) throw new AppError('NOT_FOUND', `no simulated bus "${busId}"`);
    await server.closeConnections(opts);
  }

  private readInputs(board: SimBoard): boolean[] {
    const inputs = new Array<boolean>(board.spec.inputs).fill(false);
    for (const tray of this.traysByNumber.values()) {
      if (tray.spec.board === board.spec.id && tray.spec.doorInput < inputs.length) {
        inputs[tray.spec.doorInput] = tray.door === 'open';
      }
    }
    return inputs;
  }

  private onPulse(board: SimBoard, channel: number, kind: PulseKind, durationMs?: number): void {
    const tray = [...this.traysByNumber.values()].find((t) => t.spec.board === board.spec.id && t.spec.lockChannel === channel);
    this.pulseLog.push({
      board: board.spec.id,
      unitId: board.spec.unitId,
      channel,
      tray: tray?.spec.number ?? null,
      at: this.clock.now(),
      atMs: performance.now(),
      kind,
      durationMs,
    });
    if (!tray) return;
    tray.pulses += 1;
    tray.released = true;
    if (tray.releaseTimer) clearTimeout(tray.releaseTimer);
    tray.releaseTimer = setTimeout(() => this.relatch(tray), this.options.latchHoldMs);
    tray.releaseTimer.unref();
  }

  private relatch(tray: TrayModel): void {
    if (tray.releaseTimer) clearTimeout(tray.releaseTimer);
    tray.releaseTimer = undefined;
    tray.released = false;
  }

  private powerCycle(board: SimBoard): void {
    board.powerCycle();
    for (const tray of this.traysByNumber.values()) {
      if (tray.spec.board === board.spec.id) this.relatch(tray);
    }
  }

  private tray(trayNumber: number): TrayModel {
    const tray = this.traysByNumber.get(trayNumber);
    if (!tray) throw new AppError('TRAY_NOT_FOUND', `tray ${trayNumber} is not in the cabinet map`);
    return tray;
  }

  private board(boardId: string): SimBoard {
    const board = this.boards.get(boardId);
    if (!board) throw new AppError('NOT_FOUND', `no simulated board "${boardId}"`);
    return board;
  }
}
