/**
 * The fault campaign's quiescent phase, after the cycles: faults off, the daemon up and healthy,
 * every released tray's window concluded, the last rounds (nothing left to check or to collect),
 * the outbox drained, the daemon stopped in order; then the final checks against the paper.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type pg from 'pg';
import type { CabinetSimulator } from '../../hardware/simulator.js';
import type { TcpProxy } from '../../test/helpers/tcp-proxy.js';
import type { Ctx } from './actors.js';
import { finalChecks, type FinalReport, type LostLedger, type Watcher } from './checks.js';
import { roundCycle } from './officers.js';
import type { Rng } from './rng.js';
import type { DaemonSupervisor } from './supervisor.js';
import { interrupted } from './teardown.js';
import { duration, sleep } from './time.js';

export async function quiesce(q: {
  ctx: Ctx;
  sim: CabinetSimulator;
  proxy: TcpProxy;
  daemon: DaemonSupervisor;
  pool: pg.Pool;
  lockerId: string;
  root: Rng;
  watcher: Watcher;
  lost: LostLedger;
  received: Set<string>;
  runDir: string;
}): Promise<{ report: FinalReport; quietMs: number; finalRounds: number }> {
  const { ctx, sim, proxy, daemon, pool, lockerId, root, watcher, lost, received, runDir } = q;
  const { api, world, faults, clock, note } = ctx;
  await faults.stop();
  clock.setStep(0);
  proxy.resume();
  for (const board of sim.boardStates()) if (board.fault.kind !== 'none') sim.setFault(board.id, 'none');
  const quietStarted = Date.now();
  const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> => {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (interrupted()) return false;
      if (await check().catch(() => false)) return true;
      await sleep(250);
    }
    note(`quiescence: ${what} not reached within ${duration(timeoutMs)}`);
    console.log(`warning: ${what} not reached within ${duration(timeoutMs)}`);
    return false;
  };
  await daemon.waitUp(120_000);
  await waitFor(
    'daemon healthy (db, mqtt, bus ok)',
    async () => {
      const r = await api.call('GET', '/health');
      return r.ok && r.body.db === 'ok' && r.body.mqtt === 'ok' && r.body.bus === 'ok';
    },
    120_000,
  );
  // Every released tray's window ends (the door-open timeout, then a sweep).
  await waitFor(
    'every flow concluded (no deposit or loading waiting for its door, no pickup release open)',
    async () => {
      const { rows } = await pool.query(
        `SELECT count(*)::int AS n FROM dossiers WHERE locker_id = $1
         AND (status IN ('verified', 'tray_open', 'loading') OR (kind = 'result' AND opened_at IS NOT NULL AND status IN ('loaded', 'notified', 'expired')))`,
        [lockerId],
      );
      return rows[0].n === 0;
    },
    120_000,
  );
  // The last rounds: until nothing is to check or to collect (an expired result may need a round too).
  const officer = root.fork(3);
  let finalRounds = 0;
  for (; finalRounds < 6 && !interrupted(); finalRounds++) {
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM dossiers WHERE locker_id = $1 AND (status IN ('to_check', 'deposited', 'expired'))`,
      [lockerId],
    );
    const satchel = [...world.papers.values()].some((p) => p.place.at === 'satchel');
    if (rows[0].n === 0 && !satchel) break;
    const outcome = await roundCycle(ctx, officer, 'officer (last round)');
    note(`last round ${finalRounds + 1}: ${outcome.ok ? 'done' : 'abandoned'} (${outcome.reason})`);
  }
  await waitFor(
    'outbox drained',
    async () => {
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL AND locker_id = $1`, [lockerId]);
      return rows[0].n === 0;
    },
    120_000,
  );
  // Then the daemon is stopped in order (SIGTERM: `offline` published, the outbox drained, the pool
  // closed), so that no event is written after the comparison below: the timers would go on
  // writing some (a round coming due, a reminder) as long as it runs.
  await daemon.stop();
  const { rows: unsentAfterStop } = await pool.query(`SELECT count(*)::int AS n FROM outbox WHERE sent_at IS NULL AND locker_id = $1`, [
    lockerId,
  ]);
  if (unsentAfterStop[0].n) note(`${unsentAfterStop[0].n} outbox row(s) unsent after the daemon's orderly stop`);
  await waitFor(
    'every outbox event received by the subscriber',
    async () => {
      const { rows } = await pool.query(`SELECT id FROM outbox WHERE locker_id = $1`, [lockerId]);
      return rows.every((r: { id: string }) => received.has(r.id));
    },
    15_000,
  );
  watcher.stop();
  const report = await finalChecks({ pool, lockerId, world, sim, watcher, lost, received });
  writeFileSync(path.join(runDir, 'timelines.txt'), world.dump());
  const quietMs = Date.now() - quietStarted;
  return { report, quietMs, finalRounds };
}
