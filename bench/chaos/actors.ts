/**
 * The people at the locker, as the fault campaign plays them: citizens depositing and picking up
 * (citizens.ts), an officer loading results and running rounds (officers.ts). Each goes through the
 * daemon's HTTP API like the kiosk and the staff screen, reads its code from the fake SMS provider,
 * and moves doors and paper in the simulated cabinet — at a moment of its own choosing, which under
 * the fault loop often falls inside a gap of the controller's watch. What each physically did is in
 * the World. Here: what they share — the context, the outcome of a cycle, the gestures at a door.
 */
import type { Api, ApiResult } from './api.js';
import type { CampaignClock, FaultLoop } from './faults.js';
import type { Rng } from './rng.js';
import type { FakeSmsProvider } from './sms-provider.js';
import { sleep } from './time.js';
import type { Paper, World } from './world.js';

export type CycleKind = 'deposit' | 'load' | 'pickup' | 'round';
export const CYCLE_KINDS: CycleKind[] = ['deposit', 'load', 'pickup', 'round'];

export interface CycleStats {
  completed: number;
  abandoned: number;
  /** Why cycles ended as they did ("walked away", "503 DB_UNAVAILABLE", ...). */
  reasons: Record<string, number>;
}

export interface Procedure {
  code: string;
  traySize: 'S' | 'M' | 'L';
  /** An ID card: loaded with its holder's number, given back only for it (ADR 0028). */
  pickupProof?: 'id_number';
}

/** The holder's ID number of every ID card the campaign's officers load and its citizens give at pickup. */
export const CAMPAIGN_HOLDER_ID = '079301012345';

export interface Ctx {
  api: Api;
  world: World;
  sms: FakeSmsProvider;
  faults: FaultLoop;
  clock: CampaignClock;
  latchHoldMs: number;
  boardOf(tray: number): string;
  roleOf(tray: number): string;
  cycles: Record<CycleKind, CycleStats>;
  /** Officer answers given and accepted, by item kind and outcome. */
  answers: Record<string, number>;
  /** Result papers the officer still holds (a load that did not go through): she tries them again. */
  officerHand: Paper[];
  /** Deposit codes collected by rounds: their results may come back through the machine. */
  collectedCodes: string[];
  /** Phones with a pickup in progress. */
  busyPhones: Set<string>;
  /** Pickups tried per phone since the last round (a citizen turned away twice comes back later). */
  pickupTries: Map<string, number>;
  /** No tray was free for someone: an officer should do a round soon. */
  wantRound: boolean;
  newPhone(rng: Rng): string;
  newOnlineCode(rng: Rng): string;
  procedures(kind: 'deposit' | 'result'): Promise<Procedure[] | null>;
  /** Papers are no longer being moved: the final phase (doors are still worked to the end). */
  note(line: string): void;
}

export interface Outcome {
  ok: boolean;
  reason: string;
}
export const done = (reason: string): Outcome => ({ ok: true, reason });
export const abandoned = (reason: string): Outcome => ({ ok: false, reason });
export const why = (r: ApiResult): string => (r.ok ? 'ok' : `${r.status ?? r.kind} ${r.code}`);

/**
 * When a person acts after being told the tray: at once, a little later (often inside a fault),
 * too late (the latch has locked again), or never. Door dwell: a person needs at least 2 s to open
 * a door, slide a dossier in or take it out, and shut it (ADR 0012's watch gap is 1.5 s).
 */
export function planDoor(rng: Rng, latchHoldMs: number, weights: { now: number; later: number; tooLate: number; never: number }) {
  const plan = rng.weighted(weights);
  const delayMs =
    plan === 'now'
      ? rng.between(50, 400)
      : plan === 'later'
        ? rng.between(500, latchHoldMs - 300)
        : plan === 'tooLate'
          ? rng.between(latchHoldMs + 300, latchHoldMs + 3_000)
          : 0;
  return { plan, delayMs, dwellMs: rng.between(2_000, 4_500) };
}

/** Opens the tray, does `inside` at a random moment of the dwell, shuts it. False if it would not open. */
export async function useDoor(ctx: Ctx, rng: Rng, tray: number, who: string, dwellMs: number, inside: () => void): Promise<boolean> {
  return ctx.world.withTray(tray, async () => {
    if (!ctx.world.open(tray, who)) return false;
    const at = rng.between(300, dwellMs - 300);
    await sleep(at);
    inside();
    await sleep(dwellMs - at);
    ctx.world.close(tray, who);
    return true;
  });
}

/** The controller told someone to use a tray for new paper: it must be empty. */
export function checkAssignment(ctx: Ctx, tray: number, who: string, what: string): void {
  const inside = ctx.world.papersIn(tray);
  if (inside.length) {
    ctx.world.find(
      `double:${tray}:${ctx.world.version(tray)}`,
      'double-assigned',
      tray,
      `${who} told to use tray ${tray} for ${what}, which already holds ${inside.map((p) => `${p.kind} ${p.display}`).join(', ')}`,
    );
  }
}
