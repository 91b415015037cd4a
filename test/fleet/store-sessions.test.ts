/**
 * The fleet store's database sessions (ADR 0032): no JIT compiling, which on a server built with
 * LLVM turned a few-ms read of the dashboard's lockers into 200–300 ms once a burst had bloated
 * the planner's estimates; a deployment's PGOPTIONS still applies after it.
 */
import t from 'tap';
import { FleetStore } from '../../src/fleet/store.js';
import { freshDatabaseUrl } from '../helpers/db.js';

t.test('the fleet store sessions run without JIT; PGOPTIONS still applies and can turn it on', async (t) => {
  const db = await freshDatabaseUrl();
  t.teardown(() => db.drop());
  const jit = async (pgOptions: string | undefined) => {
    const saved = process.env.PGOPTIONS;
    if (pgOptions === undefined) delete process.env.PGOPTIONS;
    else process.env.PGOPTIONS = pgOptions;
    const store = new FleetStore(db.url);
    if (saved === undefined) delete process.env.PGOPTIONS;
    else process.env.PGOPTIONS = saved;
    try {
      const { rows } = await store.pool.query<{ jit: string; timeout: string }>(
        "SELECT current_setting('jit') AS jit, current_setting('lock_timeout') AS timeout",
      );
      return rows[0];
    } finally {
      await store.close();
    }
  };
  t.equal((await jit(undefined)).jit, 'off', 'no JIT by default');
  t.same(await jit('-c lock_timeout=7s'), { jit: 'off', timeout: '7s' }, "a deployment's PGOPTIONS kept beside it");
  t.equal((await jit('-c jit=on')).jit, 'on', 'PGOPTIONS can turn it on again');
});
