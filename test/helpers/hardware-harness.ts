/** Shared set-up for the hardware tests: a simulated cabinet on loopback and the Modbus driver on it. */
import type { HardwareConfig } from '../../src/config/types.js';
import { silentLogger } from '../../src/log.js';
import type { BoardFaultEvent, BoardRecoveredEvent, DoorEvent, WatchGapEvent } from '../../src/services/ports.js';
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
  bus: { timeoutMs?: number; retries?: number; continuousScan?: boolean; startBus?: boolean } = {},
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
