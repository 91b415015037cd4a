import t from 'tap';
import { startCabinet, waitFor } from '../helpers/hardware-harness.js';

t.test('a dropped link is reopened and its boards come back', async (t) => {
  const cabinet = await startCabinet({ reopenDelayMs: 50, offlineProbeMs: 100, scanIntervalMs: 10 }, { timeoutMs: 50, retries: 1 });
  t.teardown(() => cabinet.stop());
  await cabinet.simulator.closeConnections('rs485-1', { refuseMs: 200 });
  t.ok(await waitFor(() => cabinet.faults.length === 6, 1000), 'every board on the bus is offline');
  t.ok(cabinet.faults.every((f) => f.cause === 'port_closed'));
  t.equal(cabinet.bus.health().buses[0].open, false);
  await t.rejects(cabinet.bus.unlock(10), { code: 'BOARD_OFFLINE' });

  t.ok(await waitFor(() => cabinet.recovered.length === 6, 3000), 'every board recovered after the reopen');
  t.equal(cabinet.bus.health().buses[0].open, true);
  await cabinet.bus.unlock(10);
  t.equal(cabinet.simulator.pulses().at(-1)?.tray, 10);
  cabinet.simulator.setDoor(10, true);
  t.ok(await waitFor(() => cabinet.doors.some((d) => d.tray === 10 && d.open)), 'doors are watched again');
});

t.test('a bus that cannot be opened at start: start() resolves, its boards are offline, then it opens', async (t) => {
  const cabinet = await startCabinet({ reopenDelayMs: 50 }, { startBus: false, timeoutMs: 50 });
  t.teardown(() => cabinet.stop());
  await cabinet.simulator.closeConnections('rs485-1', { refuseMs: 300 });
  cabinet.simulator.setCoil('b2', 4, true);
  await cabinet.bus.start();
  t.equal(cabinet.faults.length, 6);
  t.ok(cabinet.bus.snapshot().every((r) => !r.online && r.door === 'unknown'));
  t.ok(await waitFor(() => cabinet.recovered.length === 6, 3000), 'boards recovered once the link opened');
  t.ok(cabinet.bus.snapshot().every((r) => r.online && r.door === 'closed'));
  t.ok(
    await waitFor(() => cabinet.simulator.boardStates().every((b) => b.coils.every((on) => !on))),
    'outputs switched off once reachable',
  );
});
