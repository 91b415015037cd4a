/**
 * The simulated cabinet's controls as the simulator routes and panel use them (the port
 * `SimulatorControls`): doors, board faults, the pulse log, and what the composition root adds
 * (the clock shift, the console SMS inbox, demo accounts).
 */
import type { OffsetClock } from '../src/domain/clock.js';
import type { SimulatorControls } from '../src/services/ports.js';
import { SIM_FAULT_KINDS, type CabinetSimulator, type SimFaultKind } from './simulator.js';

export interface SimulatorExtras {
  clock: OffsetClock;
  smsInbox?: SimulatorControls['smsInbox'];
  demoToken?: SimulatorControls['demoToken'];
}

export function simulatorControls(sim: CabinetSimulator, extras: SimulatorExtras): SimulatorControls {
  const { clock } = extras;
  return {
    faultKinds: SIM_FAULT_KINDS,
    smsInbox: extras.smsInbox,
    demoToken: extras.demoToken,
    trays: () => sim.trays().map((t) => ({ tray: t.tray, board: t.board, door: t.door, latched: t.latched })),
    boards: () => sim.boardStates().map((b) => ({ id: b.id, unitId: b.unitId, fault: b.fault.kind })),
    setDoor: (tray, open, force) => sim.setDoor(tray, open, { force }),
    setFault: (board, fault, delayMs) => {
      if (!sim.boardStates().some((b) => b.id === board)) return false;
      sim.setFault(board, fault as SimFaultKind, { delayMs });
      return true;
    },
    pulses: () => sim.pulses().map((p) => ({ tray: p.tray, board: p.board, channel: p.channel, at: p.at })),
    clockOffsetMs: () => clock.offset,
    setClockOffsetMs: (ms) => {
      clock.setOffset(ms);
      return clock.now();
    },
  };
}
