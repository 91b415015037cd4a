/**
 * Controller-level figures, through a whole controller (bench/table/locker.ts) on the default
 * configuration: the simulated cabinet pacing wire time at 19200 baud 8N1, PostgreSQL, the broker.
 *
 * - A door of a tray in use (released by a deposit) changing → `events/tray.door_opened` /
 *   `tray.door_closed` at an MQTT subscriber.
 * - Any other door (forced open on a board nobody uses) → `events/tray.door_opened`.
 * - POST /api/deposits/:id/verify sent → its lock frame at the cabinet (the simulator's pulse
 *   record), while another unlock (an admin opening a tray on another board) is pulsing.
 * - Deposits per second through HTTP: citizens at once, each asking a code, reading it from the
 *   SMS inbox, verifying, opening and closing the door; counted when `deposit.completed` arrives.
 */
import type { TraySpec } from '../../src/domain/cabinet.js';
import { askCode, startBenchLocker, verify, type BenchLocker } from './locker.js';
import { sleep, until } from './services.js';

/** A deposit procedure whose dossier fits any tray (size S). */
const PROCEDURE = 'HT-TLBS';

export interface ControllerRun {
  hotDoorMs: number[];
  /** The same changes → the driver's debounced `door` event (the bus's share). */
  busDoorMs: number[];
  coldDoorMs: number[];
  lockFrameMs: number[];
  depositsPerSecond: number;
  debounceMs: number;
  scanIntervalMs: number;
}

export async function controllerRun(opts: {
  samples: number;
  deposits: number;
  citizens: number;
  overrides?: Record<string, any>;
}): Promise<ControllerRun> {
  const locker = await startBenchLocker(opts.overrides);
  try {
    const { map } = locker.config.hardware;
    // Trays nobody releases during the bench (result trays, empty): on one board the admin's
    // unlocks, on another the forced doors; the citizens' deposits go to other boards first.
    const resultTrays = map.trays.filter((t) => t.role === 'result');
    const boards = [...new Set(resultTrays.map((t) => t.board))];
    if (boards.length < 2) throw new Error('the bench needs result trays on two boards');
    const onBoard = (board: string): TraySpec[] => resultTrays.filter((t) => t.board === board);
    const adminTrays = onBoard(boards[0]);
    const forcedTrays = onBoard(boards[1]);
    const door = (tray: number, open: boolean, force = false): number => {
      const moved = locker.cabinet.setDoor(tray, open, { force });
      if (!moved.ok) throw new Error(`tray ${tray}: door ${moved.reason}`);
      return performance.now();
    };
    // The driver's debounced `door` event too: how much of the latency is the bus's.
    const busDoors: { tray: number; open: boolean; atMs: number }[] = [];
    locker.controller.lockBus.on('door', (e) => busDoors.push({ tray: e.tray, open: e.open, atMs: performance.now() }));
    const busDoorMs: number[] = [];
    const seen = async (type: 'tray.door_opened' | 'tray.door_closed', tray: number, sinceMs: number): Promise<number> => {
      const event = await locker.waitEvent(type, (d) => d.tray === tray, sinceMs);
      const open = type === 'tray.door_opened';
      const bus = busDoors.find((b) => b.tray === tray && b.open === open && b.atMs >= sinceMs);
      if (bus) lastBusMs = bus.atMs - sinceMs;
      return event.atMs - sinceMs;
    };
    let lastBusMs = 0;

    // One deposit and one admin opening first, not counted: the first request of each kind
    // compiles its code paths (route schemas on first use, ADR 0019; V8's optimisations).
    {
      const { challengeId, otp } = await askCode(locker, PROCEDURE);
      const { tray } = await verify(locker, challengeId, otp);
      await seen('tray.door_opened', tray, door(tray, true));
      await seen('tray.door_closed', tray, door(tray, false));
      const adminTray = adminTrays[adminTrays.length - 1].number;
      const opened = await locker.post(`/api/admin/trays/${adminTray}/open`, {}, locker.admin);
      if (opened.status !== 200) throw new Error(`admin open: ${opened.status} ${JSON.stringify(opened.json)}`);
      await seen('tray.door_opened', adminTray, door(adminTray, true));
      await seen('tray.door_closed', adminTray, door(adminTray, false));
    }
    const hotDoorMs: number[] = [];
    const coldDoorMs: number[] = [];
    const lockFrameMs: number[] = [];
    for (let i = 0; i < opts.samples; i++) {
      const { challengeId, otp } = await askCode(locker, PROCEDURE);
      // Another unlock in progress on another board: an admin opens a tray; once its pulse runs,
      // the citizen's code is verified.
      const adminTray = adminTrays[i % adminTrays.length].number;
      const before = locker.cabinet.pulses().length;
      const adminOpen = locker.post(`/api/admin/trays/${adminTray}/open`, {}, locker.admin);
      await until(
        async () =>
          locker.cabinet
            .pulses()
            .slice(before)
            .some((p) => p.tray === adminTray),
        `the pulse of tray ${adminTray}`,
        5_000,
        1,
      );
      const { tray, sentMs } = await verify(locker, challengeId, otp);
      const pulse = locker.cabinet
        .pulses()
        .slice(before)
        .find((p) => p.tray === tray);
      if (!pulse) throw new Error(`no lock pulse recorded for tray ${tray}`);
      lockFrameMs.push(pulse.atMs - sentMs);
      const adminAnswer = await adminOpen;
      if (adminAnswer.status !== 200) throw new Error(`admin open: ${adminAnswer.status} ${JSON.stringify(adminAnswer.json)}`);
      // The admin's tray: opened and shut again, so only the citizen's tray is in use.
      await seen('tray.door_opened', adminTray, door(adminTray, true));
      await seen('tray.door_closed', adminTray, door(adminTray, false));
      // The citizen, at a random moment of the scan.
      await sleep(Math.random() * 40);
      hotDoorMs.push(await seen('tray.door_opened', tray, door(tray, true)));
      busDoorMs.push(lastBusMs);
      await sleep(Math.random() * 40);
      hotDoorMs.push(await seen('tray.door_closed', tray, door(tray, false)));
      busDoorMs.push(lastBusMs);
      // A door nobody released, on a board that is not hot.
      await sleep(100 + Math.random() * 80);
      const forced = forcedTrays[i % forcedTrays.length].number;
      coldDoorMs.push(await seen('tray.door_opened', forced, door(forced, true, true)));
      await seen('tray.door_closed', forced, door(forced, false));
    }
    await locker.controller.trays.settled();
    const depositsPerSecond = await throughput(locker, opts.deposits, opts.citizens);
    const { debounceMs, scanIntervalMs } = locker.config.hardware;
    return { hotDoorMs, busDoorMs, coldDoorMs, lockFrameMs, depositsPerSecond, debounceMs, scanIntervalMs };
  } finally {
    await locker.stop();
  }
}

/** `deposits` full deposits by `citizens` at once; deposits per second from the first ask to the last completion. */
async function throughput(locker: BenchLocker, deposits: number, citizens: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  let last = started;
  const citizen = async (): Promise<void> => {
    while (next < deposits) {
      next += 1;
      const { challengeId, otp } = await askCode(locker, PROCEDURE);
      const { tray, depositId } = await verify(locker, challengeId, otp);
      const opened = performance.now();
      locker.cabinet.setDoor(tray, true);
      await locker.waitEvent('tray.door_opened', (d) => d.tray === tray, opened);
      const closed = performance.now();
      locker.cabinet.setDoor(tray, false);
      await locker.waitEvent('tray.door_closed', (d) => d.tray === tray, closed);
      const done = await locker.waitEvent('deposit.completed', (d) => d.depositId === depositId, opened);
      last = Math.max(last, done.atMs);
    }
  };
  await Promise.all(Array.from({ length: citizens }, citizen));
  return deposits / ((last - started) / 1000);
}
