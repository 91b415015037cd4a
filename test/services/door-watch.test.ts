/**
 * The door watch's queue of bus events: a failure that says the database cannot answer is retried
 * for as long as it lasts, even while a ping gets through (seen in the fault campaign: a pool full
 * of connections to a thawing server timed out while a ping answered, and a door's closing was
 * given up); a failure with the database up is given up after three tries, the trays' windows
 * marked as not watched, and the doors read again.
 */
import t from 'tap';
import { DoorWatch } from '../../src/services/door-watch.js';
import { OffsetClock } from '../../src/domain/clock.js';
import { silentLogger } from '../../src/log.js';

const unavailable = Object.assign(new Error('timeout exceeded when trying to connect'), { unavailable: true });

function watch(clock = new OffsetClock()) {
  return new DoorWatch({
    db: { ping: async () => true },
    bus: { watching: () => true },
    clock,
    logger: silentLogger(),
    dbUnavailable: (err) => (err as { unavailable?: boolean })?.unavailable === true,
    retryMinMs: 1,
    retryMaxMs: 2,
  });
}

t.test('an unavailable database is waited for, whatever a ping says; the events behind wait their turn', async (t) => {
  const w = watch();
  w.start();
  let tries = 0;
  const order: string[] = [];
  let gaveUp = false;
  const first = w.record(
    async () => {
      tries += 1;
      if (tries < 12) throw unavailable;
      order.push('first');
    },
    [7],
    () => (gaveUp = true),
  );
  const second = w.record(async () => void order.push('second'), [8]);
  t.equal(w.unrecorded, 2);
  await Promise.all([first, second]);
  t.equal(tries, 12, 'retried past three tries although the ping answered');
  t.notOk(gaveUp, 'not given up');
  t.same(order, ['first', 'second'], 'in order');
  t.equal(w.unrecorded, 0);
});

t.test('a failure with the database up is given up after three tries: window not watched, doors read again', async (t) => {
  const clock = new OffsetClock();
  const w = watch(clock);
  w.start();
  w.open(7);
  let tries = 0;
  const gaveUp: string[] = [];
  await w.record(
    async () => {
      tries += 1;
      throw new Error('a defect');
    },
    [7],
    () => gaveUp.push('reread 7'),
  );
  t.equal(tries, 3);
  t.same(gaveUp, ['reread 7'], 'the doors are read again');
  clock.advance(61_000);
  t.match(w.verdict(7, 60_000), { kind: 'uncertain', gap: /could not be recorded/ }, 'the window is not watched');
});

t.test('release ages and open doors are timed on the monotonic clock', async (t) => {
  const clock = new OffsetClock();
  const w = new DoorWatch({ db: { ping: async () => true }, bus: { watching: () => true }, clock, logger: silentLogger() });
  w.start();
  const before = w.nowMs();
  w.open(3);
  t.ok(w.releaseAge(3, before)! <= 0, 'a change seen before the release has a negative age');
  t.equal(w.releaseAge(4, w.nowMs()), null, 'no release recorded by this process');
  w.doorSeen(3, true, w.nowMs());
  clock.setOffset(3_600_000);
  t.same(w.openLongerThan(120_000), [], 'a wall-clock step is no time passing');
  clock.advance(121_000);
  t.same(w.openLongerThan(120_000), [3]);
  t.ok(w.releaseAge(3, w.nowMs())! >= 121_000);
  w.doorSeen(3, false, w.nowMs());
  t.same(w.openLongerThan(120_000), [], 'closed');
});

t.test('a window with a gap is not concluded while door changes wait to be written', async (t) => {
  const clock = new OffsetClock();
  const w = watch(clock);
  w.start();
  w.open(9);
  w.markGap([9], 'board a2 offline (crc)');
  let release!: () => void;
  const written = w.record(() => new Promise<void>((resolve) => (release = resolve)), [9]);
  clock.advance(61_000);
  t.same(w.verdict(9, 60_000), { kind: 'running' }, 'the opening waiting to be written may complete the flow');
  await new Promise((resolve) => setImmediate(resolve));
  release();
  await written;
  t.match(w.verdict(9, 60_000), { kind: 'uncertain', gap: /offline/ }, 'once written, the gap decides');
});
