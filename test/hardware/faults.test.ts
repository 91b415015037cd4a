import t from 'tap';
import { startCabinet, sleep, waitFor } from '../helpers/hardware-harness.js';

// Polls are stopped in these tests (continuousScan false) so each request is one we make.
const quiet = { continuousScan: false, timeoutMs: 50, retries: 2 };

t.test('a board that does not answer: BUS_TIMEOUT after the retries, naming bus, unit, function and address', async (t) => {
  const cabinet = await startCabinet({}, quiet);
  t.teardown(() => cabinet.stop());
  cabinet.simulator.setFault('b1', 'no_answer');
  const started = Date.now();
  const err = await cabinet.bus.unlock(37).catch((e: unknown) => e);
  t.match(err, { code: 'BUS_TIMEOUT', details: { bus: 'rs485-1', unit: 3, functionCode: 5, address: 0x0206 } });
  t.match((err as Error).message, /tray 37.*bus rs485-1 unit 3.*FC05.*0x0206.*no answer within 50 ms.*3 attempts/);
  t.ok(Date.now() - started >= 3 * 50 - 5, 'three attempts were made');
});

t.test('a broken CRC gives BUS_CRC_ERROR', async (t) => {
  const cabinet = await startCabinet({}, quiet);
  t.teardown(() => cabinet.stop());
  cabinet.simulator.setFault('a1', 'crc_error');
  await t.rejects(cabinet.bus.unlock(1), { code: 'BUS_CRC_ERROR', message: /unit 1.*corrupt answer.*CRC/ });
  cabinet.simulator.setFault('a1', 'none');
  await cabinet.bus.unlock(1);
  t.equal(cabinet.simulator.pulses().filter((p) => p.tray === 1).length, 4, 'three corrupt answers, then a good one');
});

t.test('garbage on the line fails the request and the next one works', async (t) => {
  const cabinet = await startCabinet({}, quiet);
  t.teardown(() => cabinet.stop());
  cabinet.simulator.setFault('a2', 'garbage');
  const err = (await cabinet.bus.unlock(20).catch((e: unknown) => e)) as { code?: string };
  t.ok(err.code === 'BUS_TIMEOUT' || err.code === 'BUS_CRC_ERROR', `failed with ${err.code}`);
  cabinet.simulator.setFault('a2', 'none');
  await sleep(20);
  await cabinet.bus.unlock(21);
  t.equal(cabinet.simulator.pulses().at(-1)?.tray, 21);
});

t.test('a slow board within the timeout works; beyond it fails, and its late answer is not taken for the next', async (t) => {
  const cabinet = await startCabinet({}, { ...quiet, timeoutMs: 80, retries: 1 });
  t.teardown(() => cabinet.stop());
  cabinet.simulator.setFault('b2', 'slow', { delayMs: 30 });
  await cabinet.bus.unlock(50);
  t.equal(cabinet.simulator.pulses().length, 1);

  cabinet.simulator.setFault('b2', 'slow', { delayMs: 250 });
  await t.rejects(cabinet.bus.unlock(51), { code: 'BUS_TIMEOUT' });
  cabinet.simulator.setFault('b2', 'none');
  // The two late answers land while nothing waits for them; the scan reads the door correctly.
  cabinet.simulator.setDoor(52, true, { force: true });
  await sleep(300);
  await cabinet.bus.scanOnce();
  await sleep(cabinet.config.debounceMs + 5);
  await cabinet.bus.scanOnce();
  t.match(cabinet.doors, [{ tray: 52, open: true }]);
});

t.test(
  'an answer arriving just after its timeout is never taken for the next request (no unlock reported done that was not)',
  async (t) => {
    const cabinet = await startCabinet({}, { ...quiet, timeoutMs: 50, retries: 1 });
    t.teardown(() => cabinet.stop());
    // Board b1 answers every request 60 ms after it: just too late, each time.
    cabinet.simulator.setFault('b1', 'slow', { delayMs: 60 });
    const first = cabinet.bus.unlock(35);
    const second = cabinet.bus.unlock(37);
    const [a, b] = await Promise.allSettled([first, second]);
    const pulsed = cabinet.simulator.pulses().map((p) => p.tray);
    // Whatever the board did, an unlock reported done is one the board acknowledged for that coil.
    if (a.status === 'fulfilled') t.ok(pulsed.includes(35), 'tray 35 reported open: the board pulsed it');
    if (b.status === 'fulfilled') t.ok(pulsed.includes(37), 'tray 37 reported open: the board pulsed it');
    t.equal(b.status, 'rejected', "the second unlock is not acknowledged by the first one's late echo");
    cabinet.simulator.setFault('b1', 'none');
    await sleep(150);
    await cabinet.bus.unlock(38);
    t.ok(
      cabinet.simulator.pulses().some((p) => p.tray === 38),
      'the board, answering in time again, is driven as before',
    );
  },
);

t.test('a board going offline: fault naming its trays, the others keep being scanned, recovered when back', async (t) => {
  const cabinet = await startCabinet({ offlineAfterFailures: 3, offlineProbeMs: 150, scanIntervalMs: 10 }, { timeoutMs: 50, retries: 1 });
  t.teardown(() => cabinet.stop());
  const started = Date.now();
  cabinet.simulator.setFault('b3', 'offline');
  t.ok(await waitFor(() => cabinet.faults.length > 0, 2000), 'fault event');
  t.ok(Date.now() - started < 2000, `within 2 s (${Date.now() - started} ms)`);
  const trays = Array.from({ length: 16 }, (_, i) => 63 + i);
  t.match(cabinet.faults[0], { board: 'b3', cause: 'timeout', trays });
  t.ok(
    cabinet.bus
      .snapshot()
      .filter((r) => !r.online)
      .every((r) => trays.includes(r.tray)),
  );
  t.equal(cabinet.bus.health().ok, false);
  await t.rejects(cabinet.bus.unlock(70), { code: 'BOARD_OFFLINE' });

  // The others are still scanned: a door on b4 is reported.
  cabinet.simulator.setDoor(85, true, { force: true });
  t.ok(await waitFor(() => cabinet.doors.some((d) => d.tray === 85)), 'door on another board reported');
  t.match(cabinet.bus.health().lastScanMs, Number);

  cabinet.simulator.setFault('b3', 'none');
  t.ok(await waitFor(() => cabinet.recovered.length > 0, 2000), 'recovered event');
  t.match(cabinet.recovered[0], { board: 'b3', trays });
  t.equal(cabinet.faults.length, 1, 'a single fault event');
  await cabinet.bus.unlock(70);
  t.equal(cabinet.bus.health().ok, true);
});

t.test('an offline board coming back is powered up with its outputs off and its latches closed', async (t) => {
  const cabinet = await startCabinet({}, quiet);
  t.teardown(() => cabinet.stop());
  await cabinet.bus.unlock(40);
  cabinet.simulator.setFault('b1', 'offline');
  cabinet.simulator.setFault('b1', 'none');
  const board = cabinet.simulator.boardStates().find((b) => b.id === 'b1')!;
  t.ok(board.coils.every((on) => !on));
  t.match(cabinet.simulator.setDoor(40, true), { ok: false, reason: 'latched' });
});

t.test('an exception answer (bad address) is reported, not retried', async (t) => {
  const { CabinetSimulator } = await import('../../hardware/simulator.js');
  const { sampleCabinetMap } = await import('../../hardware/sample-map.js');
  const map = sampleCabinetMap({ timeoutMs: 50, retries: 2 });
  // The driver believes board a1 has 32 inputs; the board has 16.
  const simulator = new CabinetSimulator({ map, latchHoldMs: 1000 });
  await simulator.start();
  t.teardown(() => simulator.stop());
  const { ModbusLockBus } = await import('../../hardware/modbus-bus.js');
  const { sampleHardwareConfig } = await import('../../hardware/sample-map.js');
  const { silentLogger } = await import('../../src/log.js');
  const driverMap = { ...map, boards: map.boards.map((b) => (b.id === 'a1' ? { ...b, inputs: 32 } : b)) };
  const bus = new ModbusLockBus({
    config: sampleHardwareConfig({ map: driverMap }),
    logger: silentLogger(),
    endpoints: simulator.endpoints(),
    continuousScan: false,
  });
  const faults: unknown[] = [];
  bus.on('fault', (f) => faults.push(f));
  await bus.start();
  t.teardown(() => bus.stop());
  t.match(faults, [{ board: 'a1', cause: 'exception', message: /FC02.*Illegal data address/ }]);
});

t.test('a gap in the watch: doors unread while a board is silent are reported once it answers', async (t) => {
  const cabinet = await startCabinet(
    { offlineAfterFailures: 2, offlineProbeMs: 100, scanIntervalMs: 5, watchGapMs: 300 },
    { timeoutMs: 50, retries: 0 },
  );
  t.teardown(() => cabinet.stop());
  t.ok(await waitFor(() => cabinet.bus.watching(70)), 'tray 70 watched while its board answers');
  t.same(cabinet.gaps, [], 'no gap while every board answers');
  cabinet.simulator.setFault('b3', 'no_answer');
  t.ok(await waitFor(() => !cabinet.bus.watching(70), 1000), 'not watched once its board is silent');
  t.ok(cabinet.bus.watching(10), 'a tray of another board still watched');
  await sleep(400);
  cabinet.simulator.setFault('b3', 'none');
  t.ok(await waitFor(() => cabinet.gaps.length > 0, 2000), 'gap reported when the board answers again');
  const trays = Array.from({ length: 16 }, (_, i) => 63 + i);
  t.match(cabinet.gaps[0], { board: 'b3', trays });
  t.ok(cabinet.gaps[0].unwatchedMs >= 300, `unread for ${cabinet.gaps[0].unwatchedMs} ms`);
  t.ok(await waitFor(() => cabinet.bus.watching(70)), 'watched again');

  // Polls that fail now and then but answer within watchGapMs are no gap.
  const before = cabinet.gaps.length;
  cabinet.simulator.setFault('a1', 'slow', { delayMs: 30 });
  await sleep(200);
  cabinet.simulator.setFault('a1', 'none');
  await sleep(100);
  t.equal(cabinet.gaps.length, before, 'a slow board within the gap limit is still watched');
});
