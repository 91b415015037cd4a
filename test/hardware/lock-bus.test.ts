import t from 'tap';
import { startCabinet, sleep, waitFor } from '../helpers/hardware-harness.js';

t.test('unlocking tray 37 pulses board b1 channel 6, then its door opens and is reported once debounced', async (t) => {
  const cabinet = await startCabinet();
  t.teardown(() => cabinet.stop());
  await cabinet.bus.unlock(37);
  const pulses = cabinet.simulator.pulses();
  t.equal(pulses.length, 1, 'exactly one pulse');
  t.match(pulses[0], { board: 'b1', unitId: 3, channel: 6, tray: 37, kind: 'flash', durationMs: 300 });
  t.match(
    cabinet.simulator.trays().find((s) => s.tray === 37),
    { released: true, latched: false },
  );

  const opened = cabinet.simulator.setDoor(37, true);
  t.same(opened, { ok: true, door: 'open' });
  t.ok(await waitFor(() => cabinet.doors.length > 0), 'a door event arrives');
  t.match(cabinet.doors, [{ tray: 37, open: true }]);
  t.equal(cabinet.bus.snapshot().find((r) => r.tray === 37)?.door, 'open');

  cabinet.simulator.setDoor(37, false);
  t.ok(await waitFor(() => cabinet.doors.length > 1), 'the closing is reported');
  t.match(cabinet.doors[1], { tray: 37, open: false });
  t.match(
    cabinet.simulator.trays().find((s) => s.tray === 37),
    { released: false, latched: true, door: 'closed' },
  );
});

t.test('a latched door cannot be opened; a forced door is reported', async (t) => {
  const cabinet = await startCabinet();
  t.teardown(() => cabinet.stop());
  t.same(cabinet.simulator.setDoor(12, true), { ok: false, door: 'closed', reason: 'latched' });
  await sleep(cabinet.config.debounceMs * 3);
  t.same(cabinet.doors, [], 'no door event for a refused opening');

  t.same(cabinet.simulator.setDoor(12, true, { force: true }), { ok: true, door: 'open' });
  t.ok(await waitFor(() => cabinet.doors.length > 0));
  t.match(cabinet.doors, [{ tray: 12, open: true }]);
});

t.test('an unopened release expires after latchHoldMs', async (t) => {
  const cabinet = await startCabinet({ simulator: { paceWireTime: false, latchHoldMs: 100 } });
  t.teardown(() => cabinet.stop());
  await cabinet.bus.unlock(5);
  await sleep(150);
  t.match(cabinet.simulator.setDoor(5, true), { ok: false, reason: 'latched' });
});

t.test('a bounce shorter than the debounce time is not reported', async (t) => {
  const cabinet = await startCabinet({ debounceMs: 150, scanIntervalMs: 5 });
  t.teardown(() => cabinet.stop());
  cabinet.simulator.setDoor(20, true, { force: true });
  await sleep(40);
  cabinet.simulator.setDoor(20, false);
  await sleep(300);
  t.same(cabinet.doors, []);
});

t.test('the start-up scan sees every door', async (t) => {
  const cabinet = await startCabinet({}, { startBus: false });
  t.teardown(() => cabinet.stop());
  const open = [1, 16, 17, 30, 31, 46, 47, 62, 63, 78, 79, 90];
  for (const tray of open) cabinet.simulator.setDoor(tray, true, { force: true });
  await cabinet.bus.start();
  const snapshot = cabinet.bus.snapshot();
  t.equal(snapshot.length, 90);
  t.ok(
    snapshot.every((r) => r.online),
    'every board answered',
  );
  t.same(
    snapshot.filter((r) => r.door === 'open').map((r) => r.tray),
    open,
  );
  t.ok(snapshot.every((r) => r.door !== 'unknown'));
  t.same(cabinet.doors, [], 'the start-up readings are a snapshot, not events');
  t.type(cabinet.bus.health().lastScanMs, 'number');
});

t.test('start() switches every output off', async (t) => {
  const cabinet = await startCabinet({}, { startBus: false });
  t.teardown(() => cabinet.stop());
  cabinet.simulator.setCoil('a2', 3, true);
  cabinet.simulator.setCoil('b4', 15, true);
  await cabinet.bus.start();
  for (const board of cabinet.simulator.boardStates())
    t.ok(
      board.coils.every((on) => !on),
      `${board.id} all off`,
    );
  t.same(cabinet.simulator.pulses(), [], 'switching off is not a pulse');
});

t.test('unknown trays and stopped buses are refused', async (t) => {
  const cabinet = await startCabinet();
  t.teardown(() => cabinet.stop());
  await t.rejects(cabinet.bus.unlock(91), { code: 'TRAY_NOT_FOUND' });
  await cabinet.bus.stop();
  await t.rejects(cabinet.bus.unlock(3), { code: 'BUS_UNAVAILABLE' });
});

t.test('the solenoid limiter never lets two pulses overlap with maxConcurrentPulses 1', async (t) => {
  const cabinet = await startCabinet({ pulseMs: 100, pulseSpacingMs: 30, maxConcurrentPulses: 1 });
  t.teardown(() => cabinet.stop());
  const trays = [2, 18, 33, 50, 88];
  await Promise.all(trays.map((tray) => cabinet.bus.unlock(tray)));
  const pulses = cabinet.simulator.pulses();
  t.same(
    pulses.map((p) => p.tray),
    trays,
    'in the order asked',
  );
  for (let i = 1; i < pulses.length; i++) {
    const gap = pulses[i].atMs - pulses[i - 1].atMs;
    t.ok(gap >= 100 + 30 - 1, `pulse ${i} starts ${gap.toFixed(1)} ms after the previous one`);
  }
});

t.test('two solenoids may draw at once with maxConcurrentPulses 2, never three', async (t) => {
  const cabinet = await startCabinet({ pulseMs: 100, pulseSpacingMs: 0, maxConcurrentPulses: 2 });
  t.teardown(() => cabinet.stop());
  await Promise.all([1, 2, 3, 4].map((tray) => cabinet.bus.unlock(tray)));
  const at = cabinet.simulator.pulses().map((p) => p.atMs);
  t.ok(at[1] - at[0] < 50, 'the second pulse does not wait');
  t.ok(at[2] - at[0] >= 99, 'the third waits for the first to end');
  t.ok(at[3] - at[1] >= 99, 'the fourth waits for the second to end');
});
