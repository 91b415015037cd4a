/**
 * The citizens of the fault campaign: a deposit (code by SMS, a tray, the dossier in or not, the
 * door shut) and a pickup (code by SMS, the trays open, each result taken, each door shut).
 */
import { abandoned, CAMPAIGN_HOLDER_ID, checkAssignment, done, planDoor, useDoor, why, type Ctx, type Outcome } from './actors.js';
import type { Rng } from './rng.js';
import { sleep } from './time.js';

/** A citizen's deposit: code by SMS, a tray, the dossier in (or not), the door shut. */
export async function depositCycle(ctx: Ctx, rng: Rng, who: string): Promise<Outcome> {
  const procedures = await ctx.procedures('deposit');
  if (!procedures) return abandoned('procedures unavailable');
  const procedure = rng.pick(procedures);
  const phone = ctx.newPhone(rng);
  // Codes texted for an earlier try (whose answer was lost) are not this challenge's.
  let seq = ctx.sms.lastSeq;
  const started = await ctx.api.retry(
    'POST',
    '/api/deposits',
    { phone, procedureCode: procedure.code },
    {
      deadlineMs: 20_000,
      beforeEach: () => (seq = ctx.sms.lastSeq),
    },
  );
  if (!started.ok) {
    if (started.code === 'TRAY_UNAVAILABLE') ctx.wantRound = true;
    return abandoned(`start: ${why(started)}`);
  }
  const otp = await ctx.sms.codeFor(phone, seq, 8_000);
  if (!otp) return abandoned('no code texted');
  // A second verify after a lost answer is refused (the code is spent); detected, not harmful.
  const verified = await ctx.api.retry('POST', `/api/deposits/${started.body.challengeId}/verify`, { otp }, { deadlineMs: 20_000 });
  if (!verified.ok) return abandoned(`verify: ${why(verified)}`);
  const { tray, dossierCode } = verified.body as { tray: number; dossierCode: string };
  const paper = ctx.world.newPaper('deposit', dossierCode, phone, who);
  checkAssignment(ctx, tray, who, `deposit ${dossierCode}`);
  const door = planDoor(rng, ctx.latchHoldMs, { now: 55, later: 30, tooLate: 5, never: 10 });
  ctx.world.note(
    tray,
    `${who}: told tray ${tray} for deposit ${dossierCode}; will ${door.plan}${door.delayMs ? ` in ${Math.round(door.delayMs)} ms` : ''}`,
  );
  if (door.plan === 'never') return done('walked away');
  if (door.plan === 'later' && rng.chance(0.35)) ctx.faults.targetBoard(ctx.boardOf(tray), door.delayMs + rng.between(1_000, 4_000));
  await sleep(door.delayMs);
  const opened = await useDoor(ctx, rng, tray, who, door.dwellMs, () => void ctx.world.put(tray, paper, who));
  return done(opened ? 'deposited' : 'door latched, kept the dossier');
}

/** Phones with a result lying in a tray, no pickup going on, and not turned away twice since the last round. */
export function pickupPhones(ctx: Ctx): string[] {
  return [
    ...new Set(
      [...ctx.world.papers.values()]
        .filter(
          (p) => p.kind === 'result' && p.place.at === 'tray' && !ctx.busyPhones.has(p.phone) && (ctx.pickupTries.get(p.phone) ?? 0) < 2,
        )
        .map((p) => p.phone),
    ),
  ];
}

/** A citizen collects: phone, code by SMS, the trays open, each result taken, each door shut. */
export async function pickupCycle(ctx: Ctx, rng: Rng, who: string): Promise<Outcome> {
  const phones = pickupPhones(ctx);
  if (!phones.length) return abandoned('no result waiting');
  const phone = rng.pick(phones);
  ctx.busyPhones.add(phone);
  ctx.pickupTries.set(phone, (ctx.pickupTries.get(phone) ?? 0) + 1);
  try {
    let seq = ctx.sms.lastSeq;
    const started = await ctx.api.retry(
      'POST',
      '/api/pickups',
      { phone },
      { deadlineMs: 20_000, beforeEach: () => (seq = ctx.sms.lastSeq) },
    );
    if (!started.ok) return abandoned(`start: ${why(started)}`);
    const otp = await ctx.sms.codeFor(phone, seq, 4_000);
    if (!otp) return abandoned('no code texted');
    const verified = await ctx.api.retry('POST', `/api/pickups/${started.body.challengeId}/verify`, { otp }, { deadlineMs: 20_000 });
    if (!verified.ok) return abandoned(`verify: ${why(verified)}`);
    const answer = verified.body as { trays: number[]; unavailable?: number[]; identityNeeded?: number };
    const trays = [...answer.trays];
    let unavailable = answer.unavailable ?? [];
    if (answer.identityNeeded) {
      // ID cards wait for the holder's number: the citizen types it (ADR 0028).
      const identity = await ctx.api.retry(
        'POST',
        `/api/pickups/${started.body.challengeId}/identity`,
        { idNumber: CAMPAIGN_HOLDER_ID },
        { deadlineMs: 20_000 },
      );
      if (identity.ok) {
        const more = identity.body as { trays: number[]; unavailable?: number[] };
        trays.push(...more.trays.filter((tray) => !trays.includes(tray)));
        unavailable = [...unavailable, ...(more.unavailable ?? [])];
      }
    }
    // The right code with nothing waiting says so (a result still being loaded, or to check).
    if (!trays.length) return abandoned(unavailable.length ? 'no tray could open' : 'nothing waits for this number');
    let took = 0;
    for (const tray of trays) {
      const door = planDoor(rng, ctx.latchHoldMs, { now: 70, later: 20, tooLate: 3, never: 7 });
      ctx.world.note(tray, `${who}: told tray ${tray} for pickup (${phone}); will ${door.plan}`);
      if (door.plan === 'never') continue;
      if (door.plan === 'later' && rng.chance(0.35)) ctx.faults.targetBoard(ctx.boardOf(tray), door.delayMs + rng.between(1_000, 4_000));
      await sleep(door.delayMs);
      await useDoor(ctx, rng, tray, who, door.dwellMs, () => {
        const inside = ctx.world.papersIn(tray);
        const mine = inside.filter((p) => p.kind === 'result' && p.phone === phone);
        const others = inside.filter((p) => !mine.includes(p));
        if (others.length) {
          ctx.world.find(
            `foreign:${tray}:${others.map((p) => p.id).join(',')}`,
            'wrong paper in tray',
            tray,
            `${who} (pickup for ${phone}) finds ${others.map((p) => `${p.kind} ${p.display}`).join(', ')} in tray ${tray}`,
          );
        }
        if (!mine.length) {
          ctx.world.find(
            `emptypickup:${tray}:${ctx.world.version(tray)}`,
            'pickup found nothing',
            tray,
            `${who} opened tray ${tray} for a pickup and found no result of theirs`,
          );
          return;
        }
        took += ctx.world.take(tray, who, { at: 'citizen' }, (p) => mine.includes(p)).length;
      });
    }
    return done(took ? 'picked up' : 'left without the result');
  } finally {
    ctx.busyPhones.delete(phone);
  }
}
