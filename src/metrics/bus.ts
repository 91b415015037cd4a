/**
 * The cabinet's figures: what the bus driver reports as it works (the `BusObserver` port: door
 * scans, Modbus exchanges, lock frames), and what the bus says of itself, read at scrape time
 * (boards online, links open, doors open).
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { BusObserver, ExchangeOutcome, LockBus } from '../services/ports.js';

export const EXCHANGE_OUTCOMES: readonly ExchangeOutcome[] = ['ok', 'timeout', 'crc', 'exception', 'io'];

/** A full scan of 90 trays is little more than the wire time: tens of ms at 19,200 baud, more at 9,600. */
const SCAN_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** From `unlock()` to the frame on the wire: the queue behind a poll, and the solenoid limiter's spacing. */
const LOCK_FRAME_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The bus as read at scrape time. */
export type WatchedBus = Pick<LockBus, 'health' | 'snapshot'>;

export class BusMetrics implements BusObserver {
  private bus: WatchedBus | null = null;
  private readonly scans: Histogram<'bus'>;
  private readonly exchanges: Counter<'board' | 'outcome'>;
  private readonly retries: Counter<'board'>;
  private readonly lockFrames: Histogram;

  constructor(registry: Registry) {
    const registers = [registry];
    this.scans = new Histogram({
      name: 'atm247_bus_scan_duration_seconds',
      help: 'Duration of one complete door scan of a bus (every board on it read once).',
      labelNames: ['bus'],
      buckets: SCAN_BUCKETS,
      registers,
    });
    this.exchanges = new Counter({
      name: 'atm247_modbus_exchanges_total',
      help: 'Modbus request/answer exchanges with a board, by how they ended: ok, timeout, crc, exception, io.',
      labelNames: ['board', 'outcome'],
      registers,
    });
    this.retries = new Counter({
      name: 'atm247_modbus_retries_total',
      help: 'Modbus exchanges with a board that were a retry (second or later attempt of a request).',
      labelNames: ['board'],
      registers,
    });
    this.lockFrames = new Histogram({
      name: 'atm247_unlock_latency_seconds',
      help: 'Time from an unlock request to its lock frame written to the wire.',
      buckets: LOCK_FRAME_BUCKETS,
      registers,
    });
    const boardOnline: Gauge<'board' | 'bus'> = new Gauge({
      name: 'atm247_board_online',
      help: '1 while a lock board answers, 0 while it does not (its trays are out of service).',
      labelNames: ['board', 'bus'],
      registers,
      collect: () => {
        boardOnline.reset();
        for (const board of this.bus?.health().boards ?? []) boardOnline.set({ board: board.id, bus: board.bus }, board.online ? 1 : 0);
      },
    });
    const linkOpen: Gauge<'bus'> = new Gauge({
      name: 'atm247_bus_link_open',
      help: '1 while the serial or TCP link of a bus is open.',
      labelNames: ['bus'],
      registers,
      collect: () => {
        linkOpen.reset();
        for (const bus of this.bus?.health().buses ?? []) linkOpen.set({ bus: bus.id }, bus.open ? 1 : 0);
      },
    });
    const doorsOpen: Gauge = new Gauge({
      name: 'atm247_doors_open',
      help: 'Tray doors the bus reads open now (doors of a silent board are unknown and not counted).',
      registers,
      collect: () => {
        doorsOpen.reset();
        if (this.bus) doorsOpen.set(this.bus.snapshot().filter((reading) => reading.door === 'open').length);
      },
    });
  }

  /** Reads the bus at every scrape from now on, and shows every bus and board at zero until it reports. */
  watch(bus: WatchedBus): void {
    this.bus = bus;
    const health = bus.health();
    for (const { id } of health.buses) this.scans.zero({ bus: id });
    for (const { id: board } of health.boards) {
      for (const outcome of EXCHANGE_OUTCOMES) this.exchanges.inc({ board, outcome }, 0);
      this.retries.inc({ board }, 0);
    }
  }

  scan(bus: string, ms: number): void {
    if (Number.isFinite(ms) && ms >= 0) this.scans.observe({ bus }, ms / 1000);
  }

  exchange(board: string, outcome: ExchangeOutcome, attempt: number): void {
    this.exchanges.inc({ board, outcome });
    if (attempt > 1) this.retries.inc({ board });
  }

  lockFrame(_tray: number, latencyMs: number): void {
    if (Number.isFinite(latencyMs) && latencyMs >= 0) this.lockFrames.observe(latencyMs / 1000);
  }
}
