/**
 * The flow timers' `tick()` runs a pass that starts after it is called: a pass already under way
 * may have read the clock before the caller moved it (a test's `setNow`, then `tick()`), so another
 * follows it, one for everyone who asked meanwhile.
 */
import t from 'tap';
import { FlowTimers } from '../../src/services/flow-timers.js';
import { silentLogger } from '../../src/log.js';

t.test('a tick asked during a pass gets a pass of its own, after it, shared by every caller meanwhile', async (t) => {
  let now = 1;
  const seen: number[] = [];
  let release: () => void = () => undefined;
  let gate: Promise<void> | null = new Promise<void>((resolve) => (release = resolve));
  const timers = new FlowTimers({
    intervalMs: 60_000,
    logger: silentLogger(),
    tasks: [
      {
        name: 'read the clock',
        run: async () => {
          seen.push(now);
          if (gate) await gate;
        },
      },
    ],
  });
  const first = timers.tick(); // reads 1, then waits at the gate
  await new Promise((resolve) => setImmediate(resolve));
  now = 2; // the caller moves the clock, then asks for a pass
  const second = timers.tick();
  const third = timers.tick();
  t.equal(second, third, 'one pass for both callers');
  gate = null;
  release();
  await first;
  await second;
  t.same(seen, [1, 2], 'the asked pass read the moved clock; no third pass');
  await timers.tick();
  t.same(seen, [1, 2, 2], 'with no pass under way, a tick runs one at once');
  await timers.stop();
});
