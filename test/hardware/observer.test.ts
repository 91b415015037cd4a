import t from 'tap';
import type { ModbusLink } from '../../hardware/modbus-link.js';
import { recordingObserver, startCabinet } from '../helpers/hardware-harness.js';

t.test('the observer is told of every full scan, every exchange and its outcome, and every lock frame', async (t) => {
  const { observer, seen } = recordingObserver();
  const cabinet = await startCabinet({}, { continuousScan: false, timeoutMs: 40, retries: 2, observer });
  t.teardown(() => cabinet.stop());
  // start(): six "all off" writes and one full scan.
  t.equal(seen.scans.length, 1, 'the start-up scan');
  t.match(seen.scans[0], { bus: 'rs485-1', ms: Number });
  t.ok(seen.scans[0].ms > 0);
  t.equal(seen.exchanges.length, 12, 'six FC15 and six FC02 exchanges');
  t.ok(seen.exchanges.every((e) => e.outcome === 'ok' && e.attempt === 1));
  t.same([...new Set(seen.exchanges.map((e) => e.board))].sort(), ['a1', 'a2', 'b1', 'b2', 'b3', 'b4']);

  await cabinet.bus.scanOnce();
  t.equal(seen.scans.length, 2);

  seen.exchanges.length = 0;
  await cabinet.bus.unlock(37);
  t.same(seen.exchanges, [{ board: 'b1', outcome: 'ok', attempt: 1 }]);
  t.equal(seen.lockFrames.length, 1);
  t.equal(seen.lockFrames[0].tray, 37);
  t.ok(seen.lockFrames[0].latencyMs >= 0 && seen.lockFrames[0].latencyMs < 1000, `latency ${seen.lockFrames[0].latencyMs} ms`);

  seen.exchanges.length = 0;
  cabinet.simulator.setFault('b2', 'no_answer');
  await t.rejects(cabinet.bus.unlock(50), { code: 'BUS_TIMEOUT' });
  t.same(seen.exchanges, [
    { board: 'b2', outcome: 'timeout', attempt: 1 },
    { board: 'b2', outcome: 'timeout', attempt: 2 },
    { board: 'b2', outcome: 'timeout', attempt: 3 },
  ]);
  t.equal(seen.lockFrames.at(-1)?.tray, 50, 'a frame that went unanswered was still written');

  seen.exchanges.length = 0;
  cabinet.simulator.setFault('b2', 'crc_error');
  await t.rejects(cabinet.bus.unlock(51), { code: 'BUS_CRC_ERROR' });
  t.same(
    seen.exchanges.map((e) => e.outcome),
    ['crc', 'crc', 'crc'],
  );
  cabinet.simulator.setFault('b2', 'none');

  // A scan with a silent board is not a complete scan.
  const scans = seen.scans.length;
  cabinet.simulator.setFault('a1', 'no_answer');
  await cabinet.bus.scanOnce();
  t.equal(seen.scans.length, scans + 1, 'a scan whose poll failed still visited every board');
  t.ok(seen.exchanges.some((e) => e.board === 'a1' && e.outcome === 'timeout'));
});

t.test('an exception answer is reported as such', async (t) => {
  const { observer, seen } = recordingObserver();
  const cabinet = await startCabinet({}, { continuousScan: false, observer });
  t.teardown(() => cabinet.stop());
  seen.exchanges.length = 0;
  // Board b4 has 16 inputs: reading 16 from input 40 gets exception 2 (illegal data address).
  const link = (cabinet.bus as unknown as { buses: Map<string, { link: ModbusLink }> }).buses.get('rs485-1')!.link;
  await t.rejects(link.request({ fc: 2, unit: 6, address: 40, count: 16 }, { priority: 'poll' }), { code: 'BUS_UNAVAILABLE' });
  t.same(seen.exchanges, [{ board: 'b4', outcome: 'exception', attempt: 1 }]);
});
