/** Shared set-up for the hardware tests: a simulated cabinet on loopback and the Modbus driver on it. */
import type { HardwareConfig } from '../../src/config/types.js';
import { silentLogger } from '../../src/log.js';
import type { BoardFaultEvent, BoardRecoveredEvent, BusObserver, DoorEvent, WatchGapEvent } from '../../src/services/ports.js';
import { ModbusLockBus } from '../../hardware/modbus-bus.js';
import { sampleCabinetMap, sampleHardwareConfig } from '../../hardware/sample-map.js';
import { CabinetSimulator } from '../../hardware/simulator.js';

export interface Cabinet {
  simulator: CabinetSimulator;
  bus: ModbusLockBus;
  config: HardwareConfig;
  doors: DoorEvent[];
  faults: BoardFaultEvent[];
  recovered: BoardRecoveredEvent[];
  gaps: WatchGapEvent[];
  stop(): Promise<void>;
}

export async function startCabinet(
  overrides: Partial<HardwareConfig> = {},
  bus: { timeoutMs?: number; retries?: number; continuousScan?: boolean; startBus?: boolean; observer?: BusObserver } = {},
): Promise<Cabinet> {
  const config = sampleHardwareConfig({
    map: sampleCabinetMap({ timeoutMs: bus.timeoutMs ?? 60, retries: bus.retries ?? 1 }),
    ...overrides,
  });
  const simulator = new CabinetSimulator({
    map: config.map,
    latchHoldMs: config.simulator.latchHoldMs,
    paceWireTime: config.simulator.paceWireTime,
  });
  await simulator.start();
  const lockBus = new ModbusLockBus({
    config,
    logger: silentLogger(),
    endpoints: () => simulator.endpoints(),
    continuousScan: bus.continuousScan,
    observer: bus.observer,
  });
  const cabinet: Cabinet = {
    simulator,
    bus: lockBus,
    config,
    doors: [],
    faults: [],
    recovered: [],
    gaps: [],
    async stop() {
      await lockBus.stop();
      await simulator.stop();
    },
  };
  lockBus.on('door', (e) => cabinet.doors.push(e));
  lockBus.on('fault', (e) => cabinet.faults.push(e));
  lockBus.on('recovered', (e) => cabinet.recovered.push(e));
  lockBus.on('gap', (e) => cabinet.gaps.push(e));
  if (bus.startBus !== false) await lockBus.start();
  return cabinet;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Wait until `check` holds, polling; fails the wait after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs = 2000, stepMs = 10): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (check()) return true;
    await sleep(stepMs);
  }
  return check();
}

/** A `BusObserver` that keeps what it is told, in order. */
export function recordingObserver() {
  const seen = {
    scans: [] as { bus: string; ms: number }[],
    exchanges: [] as { board: string; outcome: string; attempt: number }[],
    lockFrames: [] as { tray: number; latencyMs: number }[],
  };
  const observer: BusObserver = {
    scan: (bus, ms) => seen.scans.push({ bus, ms }),
    exchange: (board, outcome, attempt) => seen.exchanges.push({ board, outcome, attempt }),
    lockFrame: (tray, latencyMs) => seen.lockFrames.push({ tray, latencyMs }),
  };
  return { observer, seen };
}
