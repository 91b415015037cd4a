import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ModbusLockBus } from '../../hardware/modbus-bus.js';
import { bitsPerChar, framingOf, silenceMs, transactionWireTimeMs, wireTimeMs } from '../../hardware/rtu-frame.js';
import { sampleCabinetMap, sampleHardwareConfig } from '../../hardware/sample-map.js';
import { CabinetSimulator } from '../../hardware/simulator.js';
import { silentLogger } from '../../src/log.js';
import { sleep, waitFor } from '../helpers/hardware-harness.js';

const N1 = { parity: 'none', dataBits: 8, stopBits: 1 } as const;
const E1 = { parity: 'even', dataBits: 8, stopBits: 1 } as const;
const N2 = { parity: 'none', dataBits: 8, stopBits: 2 } as const;

t.test('bits per character and the scan floor for 8N1 and 8E1', async (t) => {
  t.equal(bitsPerChar(N1), 10);
  t.equal(bitsPerChar(E1), 11);
  t.equal(bitsPerChar(N2), 11);
  t.same(framingOf({}), E1, 'the Modbus default is 8E1');
  t.same(framingOf({ parity: 'none' }), N1);
  // 8 bytes at 19200 baud: 80 bits = 4.1667 ms at 8N1, 88 bits = 4.5833 ms at 8E1.
  t.equal(wireTimeMs(8, 19200, N1).toFixed(4), '4.1667');
  t.equal(wireTimeMs(8, 19200, E1).toFixed(4), '4.5833');
  t.equal(silenceMs(19200, N1).toFixed(4), '1.8229', 't3.5 is 3.5 characters up to 19200 baud');
  t.equal(silenceMs(115200, E1), 1.75, 'and 1.75 ms above');
  // The district 6 cabinet: 6 boards, FC02 request 8 bytes, answer 7 bytes.
  const scan = (framing: typeof N1 | typeof E1) => 6 * transactionWireTimeMs(8, 7, 19200, framing);
  t.equal(scan(N1).toFixed(2), '68.75', '8N1 at 19200: 68.75 ms a scan');
  t.equal(scan(E1).toFixed(3), '75.625', '8E1 at 19200: 75.625 ms a scan');
});

t.test('the simulator paces by the configured framing', async (t) => {
  for (const framing of [N1, E1]) {
    const map = sampleCabinetMap({ baudRate: 9600, timeoutMs: 500, retries: 0 });
    Object.assign(map.buses[0], framing);
    const simulator = new CabinetSimulator({ map, latchHoldMs: 5000, paceWireTime: true });
    await simulator.start();
    const bus = new ModbusLockBus({
      config: sampleHardwareConfig({ map }),
      logger: silentLogger(),
      endpoints: simulator.endpoints(),
      continuousScan: false,
    });
    await bus.start();
    const scans: number[] = [];
    for (let i = 0; i < 3; i++) scans.push(await bus.scanOnce());
    await bus.stop();
    await simulator.stop();
    const floor = 6 * transactionWireTimeMs(8, 7, 9600, framing);
    const best = Math.min(...scans);
    // A scan is timed from its first request to its last answer: the last trailing silence may fall
    // outside it (and the previous scan's inside), so the floor is met within one t3.5.
    const slack = silenceMs(9600, framing);
    t.ok(
      best >= floor - slack - 0.2 && best < floor * 1.1,
      `${framing.parity}: best scan ${best.toFixed(1)} ms, floor ${floor.toFixed(1)} ms`,
    );
  }
});

/** A pseudo-terminal pair: the driver opens `tty` as its serial port, socat carries the bytes to the simulator's TCP port. */
async function serialBridge(tcpPort: number): Promise<{ tty: string; stop(): void }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'atm247-pty-'));
  const tty = path.join(dir, 'ttyRS485');
  const child: ChildProcess = spawn('socat', [`pty,raw,echo=0,link=${tty}`, `tcp:127.0.0.1:${tcpPort}`], { stdio: 'ignore' });
  const ready = await waitFor(() => existsSync(tty), 3000);
  if (!ready) throw new Error('socat did not create the pseudo-terminal');
  return {
    tty,
    stop() {
      child.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const hasSocat = (() => {
  try {
    execFileSync('socat', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

for (const framing of [E1, N1, N2, { parity: 'odd', dataBits: 8, stopBits: 1 } as const]) {
  t.test(
    `a serial link is opened with the configured framing (${framing.parity}, ${framing.stopBits} stop bit(s))`,
    { skip: hasSocat ? false : 'socat is not installed' },
    async (t) => {
      const map = sampleCabinetMap({ baudRate: 19200, timeoutMs: 200, retries: 1 });
      const simulator = new CabinetSimulator({ map, latchHoldMs: 5000 });
      await simulator.start();
      t.teardown(() => simulator.stop());
      const bridge = await serialBridge(simulator.endpoints().get('rs485-1')!.port);
      t.teardown(() => bridge.stop());
      Object.assign(map.buses[0], { path: bridge.tty, ...framing });
      const bus = new ModbusLockBus({ config: sampleHardwareConfig({ driver: 'modbus', map }), logger: silentLogger() });
      await bus.start();
      t.teardown(() => bus.stop());
      t.equal(bus.health().ok, true, 'every board answered through the serial port');

      // The line settings of the open port, as the kernel holds them.
      const settings = execFileSync('stty', ['-F', bridge.tty, '-a'], { encoding: 'utf8' });
      t.match(settings, /speed 19200 baud/);
      t.match(settings, /(^|\s)cs8(\s|$)/);
      // Linux pseudo-terminals refuse parity (the kernel clears PARENB): parity is checked against
      // the mock binding below; the parity sense (PARODD) is kept and can be read here.
      if (framing.parity !== 'none') t.match(settings, framing.parity === 'odd' ? /(^|\s)parodd(\s|$)/ : /(^|\s)-parodd(\s|$)/);
      t.match(settings, framing.stopBits === 2 ? /(^|\s)cstopb(\s|$)/ : /(^|\s)-cstopb(\s|$)/, 'stop bits');

      await bus.unlock(37);
      await sleep(10);
      t.match(simulator.pulses(), [{ tray: 37 }], 'a lock frame went through the serial port');
    },
  );
}

t.test("the serial port is opened with the map's parity, data and stop bits (serialport mock binding)", async (t) => {
  const { SerialPortMock } = await import('serialport');
  const opened: InstanceType<typeof SerialPortMock>[] = [];
  class RecordingPort extends SerialPortMock {
    constructor(options: ConstructorParameters<typeof SerialPortMock>[0]) {
      super(options);
      opened.push(this);
    }
  }
  t.teardown(() => SerialPortMock.binding.reset());
  const cases = [
    { bus: {}, expect: { parity: 'even', dataBits: 8, stopBits: 1 } },
    { bus: { parity: 'none' as const }, expect: { parity: 'none', dataBits: 8, stopBits: 1 } },
    { bus: { parity: 'none' as const, stopBits: 2 as const }, expect: { parity: 'none', dataBits: 8, stopBits: 2 } },
  ];
  for (const [i, c] of cases.entries()) {
    const ttyPath = `/dev/ttyMOCK${i}`;
    SerialPortMock.binding.createPort(ttyPath, { echo: false, record: true });
    const map = sampleCabinetMap({ baudRate: 19200, timeoutMs: 20, retries: 0 });
    // The sample map is 8N1 like the district's boards; start from a bus that says nothing.
    const { parity: _parity, stopBits: _stopBits, ...bare } = map.buses[0];
    map.buses[0] = { ...bare, path: ttyPath, ...c.bus };
    const bus = new ModbusLockBus({
      config: sampleHardwareConfig({ driver: 'modbus', map }),
      logger: silentLogger(),
      serialPort: RecordingPort,
    });
    await bus.start();
    const port = opened[i];
    t.match(port.port?.openOptions, { path: ttyPath, baudRate: 19200, ...c.expect }, JSON.stringify(c.bus));
    // The mock answers nothing: every board is offline, after the driver wrote its frames.
    t.ok((port.port?.recording.length ?? 0) > 0, 'frames were written to the port');
    t.equal(bus.health().ok, false);
    await bus.stop();
  }
});
