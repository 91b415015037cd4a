/**
 * The fault campaign's cycles: `concurrency` people at once, each taking the next cycle (a
 * deposit, a load, a pickup, or a round when trays run short or its turn comes) until the count
 * (or the time) is reached, with a progress line every 50 cycles.
 */
import type pg from 'pg';
import { CYCLE_KINDS, type CycleKind, type Ctx, type Outcome } from './actors.js';
import type { LostLedger, Watcher } from './checks.js';
import { depositCycle, pickupCycle, pickupPhones } from './citizens.js';
import { loadCycle, roundCycle } from './officers.js';
import type { Options } from './options.js';
import type { Rng } from './rng.js';
import { interrupted } from './teardown.js';
import { duration, sleep } from './time.js';

export async function runCycles(c: {
  options: Options;
  startedMs: number;
  root: Rng;
  ctx: Ctx;
  watcher: Watcher;
  lost: LostLedger;
  pool: pg.Pool;
  lockerId: string;
}): Promise<{ finished: number; stoppedAtDeadline: boolean }> {
  const { options, startedMs, root, ctx, watcher, lost, pool, lockerId } = c;
  const { cycles, faults, world, note } = ctx;
  const deadline = startedMs + options.maxMinutes * 60_000;
  let issued = 0;
  let finished = 0;
  let lastRoundCycle = 0;
  let roundEvery = 20;
  let roundRunning = false;
  let stoppedAtDeadline = false;
  let lastToCheck = 0;
  const progress = async () => {
    try {
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM outbox WHERE locker_id = $1 AND type = 'tray.to_check'`, [
        lockerId,
      ]);
      lastToCheck = rows[0].n;
    } catch {
      // the database is down right now
    }
    const ok = CYCLE_KINDS.reduce((s, k) => s + cycles[k].completed, 0);
    const ab = CYCLE_KINDS.reduce((s, k) => s + cycles[k].abandoned, 0);
    const totalFaults = Object.values(faults.counts).reduce((a, b) => a + b, 0);
    const now = faults.labels();
    console.log(
      `[${String(finished).padStart(5)}/${options.cycles}] ${duration(Date.now() - startedMs).padStart(6)}  ` +
        `cycles ${ok} done, ${ab} abandoned · faults ${totalFaults}${now.length ? ` (now: ${now.join(', ')})` : ''} · ` +
        `to check ${lastToCheck} · lost ${lost.papers.size} · double-assigned ${world.findings.filter((f) => f.kind === 'double-assigned').length}`,
    );
  };

  const chooseKind = (rng: Rng, n: number): CycleKind => {
    const free = watcher.freeByRole;
    const freeDeposit = (free.deposit ?? 0) + (free.both ?? 0);
    const freeResult = (free.result ?? 0) + (free.both ?? 0);
    const short = ctx.wantRound || (watcher.reads > 0 && (freeDeposit < 8 || freeResult < 8));
    if (!roundRunning && (n - lastRoundCycle >= roundEvery || (short && n - lastRoundCycle >= 3))) {
      roundRunning = true;
      ctx.wantRound = false;
      lastRoundCycle = n;
      roundEvery = rng.int(15, 30);
      return 'round';
    }
    const waiting = pickupPhones(ctx).length > 0;
    return rng.weighted({ deposit: freeDeposit > 0 ? 45 : 5, load: freeResult > 1 ? 30 : 3, pickup: waiting ? 25 : 0, round: 0 });
  };

  const runCycle = async (kind: CycleKind, rng: Rng, who: string): Promise<Outcome> => {
    switch (kind) {
      case 'deposit':
        return depositCycle(ctx, rng, who);
      case 'load':
        return loadCycle(ctx, rng, who);
      case 'pickup':
        return pickupCycle(ctx, rng, who);
      case 'round':
        return roundCycle(ctx, rng, who);
    }
  };

  const actor = async (i: number) => {
    const rng = root.fork(100 + i);
    while (!interrupted() && issued < options.cycles) {
      if (Date.now() > deadline) {
        stoppedAtDeadline = true;
        break;
      }
      const n = ++issued;
      const kind = chooseKind(rng, n);
      const who = kind === 'round' || kind === 'load' ? `officer#${i}` : `citizen#${n}`;
      let outcome: Outcome;
      try {
        outcome = await runCycle(kind, rng, who);
      } catch (err) {
        outcome = { ok: false, reason: `campaign error: ${(err as Error).message}` };
        note(`cycle ${n} (${kind}) failed in the campaign: ${(err as Error).stack}`);
      } finally {
        if (kind === 'round') roundRunning = false;
      }
      const stats = cycles[kind];
      if (outcome.ok) stats.completed += 1;
      else stats.abandoned += 1;
      const reason = outcome.reason.replace(/^round of \d+ \(\d+ answered\)$/, 'round completed');
      stats.reasons[reason] = (stats.reasons[reason] ?? 0) + 1;
      finished += 1;
      if (finished % 50 === 0) await progress();
      // The next person comes a moment later; after someone was turned away (no tray free, the
      // machine down), a while later: a blocked locker must not use the cycles up in a second.
      await sleep(outcome.ok ? rng.between(0, 400) : rng.between(1_000, 4_000));
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, i) => actor(i + 1)));
  return { finished, stoppedAtDeadline };
}
