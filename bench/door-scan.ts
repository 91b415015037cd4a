/**
 * Door-scan benchmark: the Modbus driver against the simulated cabinet with wire-time pacing at
 * the bus baud rate (6 boards × 16 inputs on one bus). Prints the median and p95 duration of a
 * full door scan beside the wire-time floor of the frames exchanged, and PASS/FAIL against 1.15×.
 *
 *   npx tsx bench/door-scan.ts [scans=50]
 */
import { ModbusLockBus } from '../hardware/modbus-bus.js';
import { readBitsAnswerBytes, silenceMs, transactionWireTimeMs, wireTimeMs } from '../hardware/rtu-frame.js';
import { sampleCabinetMap, sampleHardwareConfig } from '../hardware/sample-map.js';
import { CabinetSimulator } from '../hardware/simulator.js';
import { silentLogger } from '../src/log.js';

const TARGET_RATIO = 1.15;
const FC02_REQUEST_BYTES = 8; // unit, fc, address (2), count (2), CRC (2)

const scans = Number(process.argv[2] ?? 50);
const map = sampleCabinetMap({ baudRate: 19200, timeoutMs: 200, retries: 0 });
const config = sampleHardwareConfig({ map, simulator: { paceWireTime: true, latchHoldMs: 5000 } });
const baud = map.buses[0].baudRate;

const perBoardMs = map.boards.map((b) => transactionWireTimeMs(FC02_REQUEST_BYTES, readBitsAnswerBytes(b.inputs), baud));
const floorMs = perBoardMs.reduce((a, b) => a + b, 0);

const simulator = new CabinetSimulator({ map, latchHoldMs: 5000, paceWireTime: true });
await simulator.start();
const bus = new ModbusLockBus({ config, logger: silentLogger(), endpoints: simulator.endpoints(), continuousScan: false });
await bus.start();

// Warm up (JIT, socket buffers), then measure.
for (let i = 0; i < 5; i++) await bus.scanOnce();
const durations: number[] = [];
for (let i = 0; i < scans; i++) durations.push(await bus.scanOnce());
const health = bus.health();
await bus.stop();
await simulator.stop();

durations.sort((a, b) => a - b);
const pick = (q: number): number => durations[Math.min(durations.length - 1, Math.ceil(q * durations.length) - 1)];
const median = pick(0.5);
const p95 = pick(0.95);
const ratio = median / floorMs;
const rssMiB = process.memoryUsage().rss / 1024 / 1024;

const f = (ms: number): string => `${ms.toFixed(1)} ms`;
console.log(
  `door scan: ${map.boards.length} boards × ${map.boards[0].inputs} inputs, ${map.trays.length} trays, ${baud} baud, 11 bits/char`,
);
console.log(
  `wire floor per board: FC02 request ${FC02_REQUEST_BYTES} B (${wireTimeMs(FC02_REQUEST_BYTES, baud).toFixed(2)} ms)` +
    ` + answer ${readBitsAnswerBytes(16)} B (${wireTimeMs(readBitsAnswerBytes(16), baud).toFixed(2)} ms)` +
    ` + 2 × t3.5 (${silenceMs(baud).toFixed(2)} ms) = ${perBoardMs[0].toFixed(2)} ms`,
);
console.log(`wire floor per scan: ${f(floorMs)}`);
console.log(`measured over ${scans} scans: median ${f(median)}, p95 ${f(p95)}, min ${f(durations[0])}, max ${f(durations.at(-1)!)}`);
console.log(`ratio median/floor: ${ratio.toFixed(3)} (p95 ${(p95 / floorMs).toFixed(3)}), target ≤ ${TARGET_RATIO}`);
console.log(`boards online: ${health.boards.filter((b) => b.online).length}/${health.boards.length}`);
console.log(`RSS: ${rssMiB.toFixed(1)} MiB`);
const pass = ratio <= TARGET_RATIO && health.ok;
console.log(pass ? 'PASS' : 'FAIL');
process.exitCode = pass ? 0 : 1;
