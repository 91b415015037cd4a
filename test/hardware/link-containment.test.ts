/**
 * A request whose callback throws fails only itself: the link starts the next exchange from
 * within the previous one's end (a socket read, a timer), where a throw would otherwise take the
 * whole daemon down.
 */
import t from 'tap';
import { CabinetSimulator } from '../../hardware/simulator.js';
import { ModbusLink } from '../../hardware/modbus-link.js';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/log.js';

t.test('a throwing onWrite fails nothing; the queue goes on', async (t) => {
  const { hardware } = loadConfig({ env: {} });
  const simulator = new CabinetSimulator({ map: hardware.map, latchHoldMs: 5_000, paceWireTime: false });
  await simulator.start();
  t.teardown(() => simulator.stop());
  const spec = hardware.map.buses[0];
  const link = new ModbusLink(spec, {
    logger: silentLogger(),
    reopenDelayMs: 100,
    events: { up: () => undefined, down: () => undefined },
    endpoint: () => simulator.endpoints().get(spec.id),
  });
  await link.start();
  t.teardown(() => link.stop());
  const boards = hardware.map.boards.filter((b) => b.bus === spec.id).slice(0, 3);
  const read = (unit: number, onWrite?: () => void) =>
    link.request({ fc: 2, unit, address: 0, count: 16 }, { priority: 'poll', read: () => undefined, onWrite });
  const results = await Promise.allSettled([
    read(boards[0].unitId, () => {
      throw new Error('an observer that fails');
    }),
    read(boards[1].unitId),
    read(boards[2].unitId),
  ]);
  t.same(
    results.map((r) => r.status),
    ['fulfilled', 'fulfilled', 'fulfilled'],
    'its own answer came, and the requests behind it ran',
  );
});
