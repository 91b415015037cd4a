/**
 * Driver-level latencies at 19200 baud 8N1 against the paced simulator, continuous scanning:
 * a door of a tray in use (released) changing → the debounced `door` event; and `unlock()` → its
 * lock frame on the wire (the observer's lockFrame) while another unlock runs on another board.
 */
import { ModbusLockBus } from '../../hardware/modbus-bus.js';
import { sampleCabinetMap, sampleHardwareConfig } from '../../hardware/sample-map.js';
import { CabinetSimulator } from '../../hardware/simulator.js';
import { silentLogger } from '../../src/log.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function latencyRun(opts: {
  samples: number;
  debounceMs: number;
  scanIntervalMs: number;
}): Promise<{ hotDoorMs: number[]; coldDoorMs: number[]; lockFrameMs: number[] }> {
  const map = sampleCabinetMap({ baudRate: 19200, timeoutMs: 200, retries: 1 });
  const config = sampleHardwareConfig({
    map,
    debounceMs: opts.debounceMs,
    scanIntervalMs: opts.scanIntervalMs,
    pulseMs: 500,
    pulseSpacingMs: 150,
    power: { solenoidAmps: 1, supplies: [{ id: 'psu', amps: 10, reserveAmps: 1.5 }] },
    simulator: { paceWireTime: true, latchHoldMs: 30_000 },
  });
  const simulator = new CabinetSimulator({ map, latchHoldMs: 30_000, paceWireTime: true });
  await simulator.start();
  const lockFrameMs: number[] = [];
  const bus = new ModbusLockBus({
    config,
    logger: silentLogger(),
    endpoints: simulator.endpoints(),
    observer: { scan: () => undefined, exchange: () => undefined, lockFrame: (_tray, ms) => lockFrameMs.push(ms) },
  });
  await bus.start();
  const waitDoor = (tray: number, open: boolean): Promise<number> =>
    new Promise((resolve) => {
      const started = performance.now();
      const listener = (e: { tray: number; open: boolean }): void => {
        if (e.tray !== tray || e.open !== open) return;
        bus.off('door', listener);
        resolve(performance.now() - started);
      };
      bus.on('door', listener);
      simulator.setDoor(tray, open);
    });
  const hotDoorMs: number[] = [];
  const coldDoorMs: number[] = [];
  try {
    for (let i = 0; i < opts.samples; i++) {
      const tray = 1 + (i % 30);
      const other = 47 + (i % 16);
      // Two unlocks at once on two boards: the second's lock frame must not wait for the first pulse.
      await Promise.all([bus.unlock(tray), bus.unlock(other)]);
      // The other citizen is done first: one tray in use while its door is timed.
      await waitDoor(other, true);
      await waitDoor(other, false);
      await sleep(Math.random() * 40);
      hotDoorMs.push(await waitDoor(tray, true));
      await sleep(Math.random() * 40);
      hotDoorMs.push(await waitDoor(tray, false));
      // A door nobody released (forced): seen within a full scan + debounce.
      await sleep(100 + Math.random() * 80);
      const forced = 79 + (i % 12);
      const started = performance.now();
      const seen = new Promise<number>((resolve) => {
        const listener = (e: { tray: number }): void => {
          if (e.tray !== forced) return;
          bus.off('door', listener);
          resolve(performance.now() - started);
        };
        bus.on('door', listener);
      });
      simulator.setDoor(forced, true, { force: true });
      coldDoorMs.push(await seen);
      simulator.setDoor(forced, false);
      await sleep(150);
    }
  } finally {
    await bus.stop();
    await simulator.stop();
  }
  return { hotDoorMs, coldDoorMs, lockFrameMs };
}
