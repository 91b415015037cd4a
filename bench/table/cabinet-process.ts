/**
 * The simulated cabinet in a process of its own, as an RS-485/Ethernet gateway would be: the
 * default map's boards behind one TCP listener per bus, pacing wire time. Prints its endpoints as
 * one JSON line (`{ "<busId>": { "host", "port" } }`) and runs until its stdin closes (the bench
 * that started it is gone) or SIGTERM.
 *
 *   node --import tsx bench/table/cabinet-process.ts
 */
import { CabinetSimulator } from '../../hardware/simulator.js';
import { loadConfig } from '../../src/config/load.js';

const { hardware } = loadConfig({ env: {} });
const simulator = new CabinetSimulator({ map: hardware.map, latchHoldMs: hardware.simulator.latchHoldMs, paceWireTime: true });
await simulator.start();
process.stdout.write(`${JSON.stringify(Object.fromEntries(simulator.endpoints()))}\n`);
const stop = (): void => void simulator.stop().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
