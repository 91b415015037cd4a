/**
 * The officers of the fault campaign: loading a result (she keeps the ones that did not go in and
 * tries them again), and a round (the manifest, each tray looked into and answered as found, then
 * the trays to check off the round). What she takes goes in her satchel, then to the counter.
 */
import { abandoned, CAMPAIGN_HOLDER_ID, checkAssignment, done, planDoor, useDoor, why, type Ctx, type Outcome } from './actors.js';
import type { Rng } from './rng.js';
import { sleep } from './time.js';
import { normalizeCode, type Paper } from './world.js';

type HeldPaper = Paper & { heldSinceMs?: number; procedureCode?: string };

/** The officer keeps a result she could not load, to try again later. */
function keep(ctx: Ctx, paper: Paper): void {
  if (ctx.officerHand.includes(paper) || paper.place.at !== 'hand') {
    ctx.note(`campaign: result ${paper.display} kept twice or kept from ${paper.place.at}: ${paper.history.join(' / ')}`);
  }
  paper.history.push(`${ctx.world.seconds().toFixed(1)}s kept by the officer`);
  (paper as HeldPaper).heldSinceMs = Date.now();
  ctx.officerHand.push(paper);
}

/** The officer loads a result: a tray opens, the result goes in, the door shuts. */
export async function loadCycle(ctx: Ctx, rng: Rng, who: string): Promise<Outcome> {
  const procedures = await ctx.procedures('result');
  if (!procedures) return abandoned('procedures unavailable');
  // A result she still holds from a load that did not go through, tried again some time later
  // (the machine has concluded about the first try by then); or a new one.
  const ripe = ctx.officerHand.findIndex((p) => Date.now() - ((p as HeldPaper).heldSinceMs ?? 0) > 15_000);
  let paper: Paper | null = ripe >= 0 && rng.chance(0.6) ? ctx.officerHand.splice(ripe, 1)[0] : null;
  let procedureCode: string;
  if (paper) {
    procedureCode = (paper as HeldPaper).procedureCode ?? rng.pick(procedures).code;
  } else {
    procedureCode = rng.pick(procedures).code;
    const waitingPhones = [...ctx.world.papers.values()].filter((p) => p.kind === 'result' && p.place.at === 'tray').map((p) => p.phone);
    const phone = waitingPhones.length && rng.chance(0.2) ? rng.pick(waitingPhones) : ctx.newPhone(rng);
    const code =
      ctx.collectedCodes.length && rng.chance(0.3)
        ? ctx.collectedCodes.splice(rng.int(0, ctx.collectedCodes.length - 1), 1)[0]
        : ctx.newOnlineCode(rng);
    paper = ctx.world.newPaper('result', code, phone, who);
    (paper as HeldPaper).procedureCode = procedureCode;
  }
  paper.history.push(`${ctx.world.seconds().toFixed(1)}s ${who} loads it`);
  const r = await ctx.api.retry(
    'POST',
    '/api/staff/results',
    {
      dossierCode: paper.display,
      phone: paper.phone,
      procedureCode,
      // An ID card is loaded with its holder's number (the citizen gives it at pickup).
      ...(procedures.find((p) => p.code === procedureCode)?.pickupProof ? { holderIdNumber: CAMPAIGN_HOLDER_ID } : {}),
    },
    { auth: 'staff', deadlineMs: 20_000 },
  );
  if (!r.ok && (r.status ?? 0) >= 500 && r.status !== 503)
    ctx.note(`load of ${paper.display} answered ${r.status} ${r.code}; the result's history: ${paper.history.join(' / ')}`);
  if (!r.ok) {
    if (r.code === 'TRAY_UNAVAILABLE') ctx.wantRound = true;
    // She keeps the result and tries again later (also when the machine says it is already in a
    // tray: she holds it, so that try did not put it anywhere).
    keep(ctx, paper);
    return abandoned(`load: ${why(r)}`);
  }
  const tray = (r.body as { tray: number }).tray;
  checkAssignment(ctx, tray, who, `result ${paper.display}`);
  const door = planDoor(rng, ctx.latchHoldMs, { now: 70, later: 22, tooLate: 3, never: 5 });
  ctx.world.note(
    tray,
    `${who}: told tray ${tray} for result ${paper.display}; will ${door.plan}${door.delayMs ? ` in ${Math.round(door.delayMs)} ms` : ''}`,
  );
  if (door.plan === 'never') {
    keep(ctx, paper);
    return done('loaded elsewhere (left the tray)');
  }
  if (door.plan === 'later' && rng.chance(0.35)) ctx.faults.targetBoard(ctx.boardOf(tray), door.delayMs + rng.between(1_000, 4_000));
  await sleep(door.delayMs);
  const held = paper;
  const opened = await useDoor(ctx, rng, tray, who, door.dwellMs, () => void ctx.world.put(tray, held, who));
  if (!opened || held.place.at !== 'tray') {
    keep(ctx, held);
    return done('door latched, kept the result');
  }
  return done('loaded');
}

interface ManifestItem {
  tray: number;
  dossierCode: string;
  status: string;
  kind: 'collect' | 'takeBack' | 'check';
}

/**
 * An officer's round: the next round's manifest (the wall clock moved on to its time when the
 * last one is done), start (the trays open), each tray looked into and answered as found, then
 * complete; then the trays to check that were not on it, opened one by one (admin open).
 */
export async function roundCycle(ctx: Ctx, rng: Rng, who: string): Promise<Outcome> {
  const { api } = ctx;
  let next = await api.retry('GET', '/api/staff/rounds/next', undefined, { auth: 'staff', deadlineMs: 30_000 });
  if (!next.ok) return abandoned(`manifest: ${why(next)}`);
  if (next.body.round.status === 'completed' || next.body.round.status === 'skipped') {
    // This round's slot is done: the next round comes when the wall clock reaches the next slot.
    ctx.clock.advanceTo(Date.parse(next.body.round.scheduledAt) + 60_000);
    // The step reaches the daemon over IPC (or with its next start): ask until it shows.
    for (let i = 0; i < 20; i++) {
      await sleep(150);
      next = await api.retry('GET', '/api/staff/rounds/next', undefined, { auth: 'staff', deadlineMs: 30_000 });
      if (!next.ok) return abandoned(`manifest: ${why(next)}`);
      if (['upcoming', 'due', 'running'].includes(next.body.round.status)) break;
    }
    if (!['upcoming', 'due', 'running'].includes(next.body.round.status)) return abandoned(`round is ${next.body.round.status}`);
  }
  const id: string = next.body.round.id;
  let manifest = next.body;
  const began = Date.now();
  if (manifest.round.status !== 'running') {
    // Mostly one tray at a time (each opens when she is at it, as the staff screen offers), now
    // and then all at once (the latches of the last ones lock again before she gets there).
    const oneAtATime = rng.chance(0.7);
    const started = await api.retry(
      'POST',
      `/api/staff/rounds/${id}/start`,
      { oneAtATime },
      { auth: 'staff', timeoutMs: 60_000, deadlineMs: 60_000 },
    );
    if (!started.ok) {
      // An answer lost while the round did start: carry on with it.
      const again = await api.retry('GET', '/api/staff/rounds/next', undefined, { auth: 'staff', deadlineMs: 20_000 });
      if (!again.ok || again.body.round.id !== id || again.body.round.status !== 'running') return abandoned(`start: ${why(started)}`);
      manifest = again.body;
    } else {
      manifest = started.body;
    }
  }
  const items: ManifestItem[] = [
    ...manifest.collect.map((i: any) => ({ ...i, kind: 'collect' as const })),
    ...manifest.takeBack.map((i: any) => ({ ...i, kind: 'takeBack' as const })),
    ...manifest.check.map((i: any) => ({ ...i, kind: 'check' as const })),
  ].filter((i) => i.status === 'pending' || i.status === 'opened');
  let answered = 0;
  for (const item of items) {
    if (await roundItem(ctx, rng, who, id, item)) answered += 1;
  }
  const completed = await api.retry('POST', `/api/staff/rounds/${id}/complete`, undefined, { auth: 'staff', deadlineMs: 30_000 });
  const roundDone = completed.ok || completed.code === 'ROUND_NOT_OPEN';
  // Trays to check that were not on this manifest (held since it was drawn), or left on it.
  const off = await outsideChecks(ctx, rng, who);
  ctx.note(
    `${who}: round ${id.slice(0, 8)} (${manifest.round.scheduledAt}) ${roundDone ? 'completed' : `not completed (${why(completed)})`}: ` +
      `${answered}/${items.length} trays answered, ${off} checks off the round, in ${((Date.now() - began) / 1000).toFixed(1)} s`,
  );
  ctx.pickupTries.clear();
  if (!roundDone) return abandoned(`complete: ${why(completed)}`);
  return done(`round of ${items.length} (${answered} answered)`);
}

/** The officer looks into an open tray for `item`; takes what she takes; returns her answer. */
function lookInto(ctx: Ctx, who: string, tray: number, kind: ManifestItem['kind'] | 'check', dossierCode: string): string {
  const { world } = ctx;
  const code = normalizeCode(dossierCode);
  const inside = world.papersIn(tray);
  const match = inside.find((p) => p.code === code);
  // Taken by her on an earlier try whose answer did not go through: she still has it.
  const held = [...world.papers.values()].find((p) => p.place.at === 'satchel' && p.place.tray === tray && p.code === code);
  const strays = inside.filter((p) => p !== match);
  if (strays.length) {
    world.find(
      `stray:${tray}:${strays.map((p) => p.id).join(',')}`,
      'wrong paper in tray',
      tray,
      `${who} finds ${strays.map((p) => `${p.kind} ${p.display}`).join(', ')} in tray ${tray}, expecting ${dossierCode}`,
    );
    // A dossier that is not the expected one goes to the counter with her.
    world.take(tray, who, { at: 'satchel', tray }, (p) => strays.includes(p));
  }
  const present = match ?? held;
  if (kind === 'collect' || kind === 'takeBack') {
    if (!present) {
      world.find(
        `phantom:${tray}:${code}`,
        'recorded but not there',
        tray,
        `${who}: the manifest has ${dossierCode} in tray ${tray}; the tray is empty`,
      );
      return 'missing';
    }
    if (match) world.take(tray, who, { at: 'satchel', tray }, (p) => p === match);
    return kind === 'collect' ? 'collected' : 'returned';
  }
  if (!present) return 'empty';
  // A deposit found is collected by the officer who found it; a result stays for its citizen.
  if (match && match.kind === 'deposit') world.take(tray, who, { at: 'satchel', tray }, (p) => p === match);
  return 'found';
}

/** Papers in her satchel from `tray` go to the counter once the controller has her answer. */
function settleSatchel(ctx: Ctx, tray: number): void {
  for (const p of ctx.world.papers.values()) {
    if (p.place.at === 'satchel' && p.place.tray === tray) {
      p.place = { at: 'counter' };
      if (p.kind === 'deposit') ctx.collectedCodes.push(p.display);
    }
  }
}

async function roundItem(ctx: Ctx, rng: Rng, who: string, roundId: string, item: ManifestItem): Promise<boolean> {
  const { api, world } = ctx;
  const tray = item.tray;
  const answer = await world.withTray(tray, async () => {
    let opened = world.open(tray, who);
    if (!opened) {
      // Locked again (the round started a while ago), or its board was silent: open it again.
      const again = await api.retry('POST', `/api/staff/rounds/${roundId}/items/${tray}/open`, undefined, {
        auth: 'staff',
        deadlineMs: 10_000,
      });
      if (again.ok) {
        await sleep(250);
        opened = world.open(tray, who);
      }
    }
    if (!opened) {
      world.note(tray, `${who}: cannot open tray ${tray}: left for the next round`);
      return null;
    }
    await sleep(rng.between(200, 700));
    const outcome = lookInto(ctx, who, tray, item.kind, item.dossierCode);
    await sleep(rng.between(100, 400));
    world.close(tray, who);
    return outcome;
  });
  if (!answer) return false;
  const r = await api.retry(
    'POST',
    `/api/staff/rounds/${roundId}/items/${tray}`,
    { outcome: answer },
    { auth: 'staff', deadlineMs: 15_000 },
  );
  if (r.ok || r.code === 'ITEM_ALREADY_CONFIRMED') {
    world.note(tray, `${who}: answered ${answer} for ${item.dossierCode}${r.ok ? '' : ' (already recorded)'}`);
    ctx.answers[`${item.kind} ${answer}`] = (ctx.answers[`${item.kind} ${answer}`] ?? 0) + 1;
    settleSatchel(ctx, tray);
    return true;
  }
  world.note(tray, `${who}: answer ${answer} for ${item.dossierCode} not taken: ${why(r)}`);
  if (r.code === 'CONFLICT') {
    world.find(
      `conflict:${tray}:${item.dossierCode}`,
      'officer answer refused',
      tray,
      `${who} answered ${answer} for ${item.dossierCode} in tray ${tray}: ${r.message}`,
    );
    settleSatchel(ctx, tray);
  }
  return false;
}

/** Trays to check off the round (GET /api/staff/checks): opened from the list one by one and answered. */
export async function outsideChecks(ctx: Ctx, rng: Rng, who: string): Promise<number> {
  const { api, world } = ctx;
  const list = await api.retry('GET', '/api/staff/checks', undefined, { auth: 'staff', deadlineMs: 20_000 });
  if (!list.ok) return 0;
  let answered = 0;
  for (const check of list.body as { tray: number; dossierCode: string; kind: string }[]) {
    const tray = check.tray;
    const answer = await world.withTray(tray, async () => {
      let opened = world.open(tray, who);
      if (!opened) {
        // The staff screen opens a tray to check from its list (an admin's maintenance open otherwise).
        let r = await api.retry('POST', `/api/staff/checks/${tray}/open`, undefined, { auth: 'staff', deadlineMs: 10_000 });
        if (!r.ok && r.status === 404 && r.code === 'NOT_FOUND') {
          r = await api.retry('POST', `/api/admin/trays/${tray}/open`, { reason: 'tray to check' }, { auth: 'admin', deadlineMs: 15_000 });
        }
        if (r.ok) {
          await sleep(250);
          opened = world.open(tray, who);
        }
      }
      if (!opened) {
        world.note(tray, `${who}: cannot open tray ${tray} to check it`);
        return null;
      }
      await sleep(rng.between(300, 1_000));
      const outcome = lookInto(ctx, who, tray, 'check', check.dossierCode);
      await sleep(rng.between(200, 600));
      world.close(tray, who);
      return outcome;
    });
    if (!answer) continue;
    const r = await api.retry('POST', `/api/staff/checks/${tray}`, { outcome: answer }, { auth: 'staff', deadlineMs: 15_000 });
    if (r.ok || r.code === 'ITEM_NOT_FOUND') {
      world.note(
        tray,
        `${who}: answered ${answer} for ${check.dossierCode} (${check.kind}, off the round)${r.ok ? '' : ' (no longer to check)'}`,
      );
      ctx.answers[`check ${answer} (off round)`] = (ctx.answers[`check ${answer} (off round)`] ?? 0) + 1;
      settleSatchel(ctx, tray);
      answered += 1;
    } else {
      world.note(tray, `${who}: answer ${answer} for tray ${tray} not taken: ${why(r)}`);
    }
  }
  return answered;
}
