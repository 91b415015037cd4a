import t from 'tap';
import { recordingObserver, sleep, startCabinet, waitFor } from '../helpers/hardware-harness.js';

/** Longest run of polls of other boards between two polls of `board` in `boards`. */
function longestGap(boards: string[], board: string): number {
  let longest = 0;
  let run = 0;
  for (const b of boards) {
    if (b === board) {
      longest = Math.max(longest, run);
      run = 0;
    } else run += 1;
  }
  return longest;
}

/** Polls (not writes) in order, by board, over `ms`. */
async function pollsDuring(seen: ReturnType<typeof recordingObserver>['seen'], ms: number): Promise<string[]> {
  const from = seen.exchanges.length;
  await sleep(ms);
  return seen.exchanges.slice(from).map((e) => e.board);
}

t.test("a released tray's board is polled after every two other polls; the rest is still scanned", async (t) => {
  const { observer, seen } = recordingObserver();
  const cabinet = await startCabinet({ scanIntervalMs: 0, hotHoldMs: 5000 }, { observer });
  t.teardown(() => cabinet.stop());

  const cold = await pollsDuring(seen, 150);
  t.ok(longestGap(cold, 'b1') >= 5, 'before: b1 waits its turn among six boards');

  await cabinet.bus.unlock(37);
  const hot = await pollsDuring(seen, 300);
  t.ok(hot.length > 30, `${hot.length} polls`);
  t.ok(longestGap(hot, 'b1') <= 2, `b1 polled at least every third exchange (longest gap ${longestGap(hot, 'b1')})`);
  for (const board of ['a1', 'a2', 'b2', 'b3', 'b4']) {
    // A round of the five others takes at most 5 + 3 hot polls (+1 for a round boundary).
    t.ok(longestGap(hot, board) <= 9, `${board} still scanned (longest gap ${longestGap(hot, board)})`);
  }

  // The door opens and shuts: the tray is no longer in use, b1 goes back to its turn.
  cabinet.simulator.setDoor(37, true);
  t.ok(await waitFor(() => cabinet.doors.length === 1));
  const open = await pollsDuring(seen, 150);
  t.ok(longestGap(open, 'b1') <= 2, 'polled hot while its door is open');
  cabinet.simulator.setDoor(37, false);
  t.ok(await waitFor(() => cabinet.doors.length === 2));
  await sleep(50);
  const after = await pollsDuring(seen, 150);
  t.ok(longestGap(after, 'b1') >= 5, `after: b1 waits its turn again (longest gap ${longestGap(after, 'b1')})`);
});

t.test('a release whose door never opens is polled hot for hotHoldMs only', async (t) => {
  const { observer, seen } = recordingObserver();
  const cabinet = await startCabinet({ scanIntervalMs: 0, hotHoldMs: 1000 }, { observer });
  t.teardown(() => cabinet.stop());
  await cabinet.bus.unlock(80);
  const hot = await pollsDuring(seen, 200);
  t.ok(longestGap(hot, 'b4') <= 2, 'hot while released');
  await sleep(900);
  const cold = await pollsDuring(seen, 150);
  t.ok(longestGap(cold, 'b4') >= 5, 'back to its turn after hotHoldMs');
});

t.test('a changed reading is confirmed by the next poll once debounceMs has passed', async (t) => {
  const { observer, seen } = recordingObserver();
  // Paced at 19200 baud: one exchange (~12 ms) is longer than the 5 ms debounce.
  const cabinet = await startCabinet(
    { scanIntervalMs: 0, debounceMs: 5, simulator: { paceWireTime: true, latchHoldMs: 5000 } },
    { observer, timeoutMs: 200 },
  );
  t.teardown(() => cabinet.stop());
  // The confirming poll reports the door before the observer records its exchange.
  let atEvent = -1;
  cabinet.bus.once('door', () => (atEvent = seen.exchanges.length));
  cabinet.simulator.setDoor(5, true, { force: true });
  t.ok(await waitFor(() => cabinet.doors.length === 1 && seen.exchanges.length > atEvent, 1000));
  t.equal(seen.exchanges[atEvent - 1].board, 'a1', 'the first reading');
  t.equal(seen.exchanges[atEvent].board, 'a1', 'the confirming poll comes right after it');
});
