import t from 'tap';
import { createLockBus } from '../../hardware/index.js';
import { sampleCabinetMap, sampleHardwareConfig } from '../../hardware/sample-map.js';
import { silentLogger } from '../../src/log.js';
import type { BoardFaultEvent, DoorEvent } from '../../src/services/ports.js';
import { waitFor } from '../helpers/hardware-harness.js';

t.test('the simulator driver runs the Modbus driver against the simulated cabinet', async (t) => {
  const { bus, simulator } = createLockBus({ config: sampleHardwareConfig({ driver: 'simulator' }), logger: silentLogger() });
  t.ok(simulator, 'a simulator comes with it');
  const doors: DoorEvent[] = [];
  bus.on('door', (e) => doors.push(e));
  await bus.start();
  t.teardown(() => bus.stop());
  t.equal(simulator!.endpoints().get('rs485-1')?.host, '127.0.0.1');
  await bus.unlock(62);
  t.match(simulator!.pulses(), [{ board: 'b2', channel: 15, tray: 62 }]);
  t.same(simulator!.setDoor(62, true), { ok: true, door: 'open' });
  t.ok(await waitFor(() => doors.length > 0));
  t.match(doors, [{ tray: 62, open: true }]);
  t.equal(bus.health().ok, true);
});

t.test('the modbus driver on a missing serial adapter starts with its boards offline and keeps trying', async (t) => {
  const map = sampleCabinetMap({ timeoutMs: 50 });
  map.buses[0].path = '/dev/ttyUSB-does-not-exist';
  const { bus, simulator } = createLockBus({
    config: sampleHardwareConfig({ driver: 'modbus', map, reopenDelayMs: 50 }),
    logger: silentLogger(),
  });
  t.equal(simulator, undefined);
  const faults: BoardFaultEvent[] = [];
  bus.on('fault', (e) => faults.push(e));
  await bus.start();
  t.teardown(() => bus.stop());
  t.equal(faults.length, 6);
  t.ok(faults.every((f) => f.cause === 'port_closed'));
  t.match(bus.health(), { ok: false, buses: [{ id: 'rs485-1', open: false, lastError: /ttyUSB-does-not-exist/ }] });
  await t.rejects(bus.unlock(1), { code: 'BOARD_OFFLINE' });
});

t.test('the gpio driver refuses to start where there is no GPIO', async (t) => {
  const config = sampleHardwareConfig({ driver: 'gpio' });
  config.map = { ...config.map, gpio: [{ tray: 1, lockPin: 17, doorPin: 27 }] };
  const { bus } = createLockBus({ config, logger: silentLogger() });
  await t.rejects(bus.start(), { code: 'BUS_UNAVAILABLE' });
});
