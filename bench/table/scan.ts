/**
 * Door-scan figures: the Modbus driver against the paced simulated cabinet (6 boards × 16 inputs on
 * one bus), full scans with `scanOnce()`, beside the wire floor of the frames exchanged.
 */
import { ModbusLockBus } from '../../hardware/modbus-bus.js';
import { READ_BITS_REQUEST_BYTES, readBitsAnswerBytes, transactionWireTimeMs, type Framing } from '../../hardware/rtu-frame.js';
import { sampleCabinetMap, sampleHardwareConfig } from '../../hardware/sample-map.js';
import { CabinetSimulator } from '../../hardware/simulator.js';
import { silentLogger } from '../../src/log.js';

export interface ScanRun {
  floorMs: number;
  durations: number[];
}

/** Wire floor of one full scan: per board, FC02 request + answer + 2 × t3.5 at the bus's framing. */
export function scanFloorMs(boards: { inputs: number }[], baud: number, framing: Framing): number {
  return boards.reduce((sum, b) => sum + transactionWireTimeMs(READ_BITS_REQUEST_BYTES, readBitsAnswerBytes(b.inputs), baud, framing), 0);
}

export async function scanRun(opts: { baud: number; framing: Framing; scans: number }): Promise<ScanRun> {
  const map = sampleCabinetMap({ baudRate: opts.baud, timeoutMs: 500, retries: 0 });
  Object.assign(map.buses[0], opts.framing);
  const config = sampleHardwareConfig({ map, simulator: { paceWireTime: true, latchHoldMs: 5000 } });
  const simulator = new CabinetSimulator({ map, latchHoldMs: 5000, paceWireTime: true });
  await simulator.start();
  const bus = new ModbusLockBus({ config, logger: silentLogger(), endpoints: simulator.endpoints(), continuousScan: false });
  await bus.start();
  try {
    for (let i = 0; i < 5; i++) await bus.scanOnce();
    const durations: number[] = [];
    for (let i = 0; i < opts.scans; i++) durations.push(await bus.scanOnce());
    if (!bus.health().ok) throw new Error('a board did not answer during the scan bench');
    return { floorMs: scanFloorMs(map.boards, opts.baud, opts.framing), durations };
  } finally {
    await bus.stop();
    await simulator.stop();
  }
}
