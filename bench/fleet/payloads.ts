/**
 * What one simulated locker publishes, built from the topic contract's own types
 * (src/domain/events.ts): a payload that leaves the contract does not compile here either, and the
 * fleet's validation (src/fleet/ingest.ts) must accept every one (the benchmark asserts rejected = 0).
 */
import { randomUUID } from 'node:crypto';
import type {
  EventEnvelope,
  EventPayload,
  EventType,
  OccupancyPayload,
  PublishedTrayState,
  RoundNextPayload,
  TrayPayload,
} from '../../src/domain/events.js';

export const TRAYS = 90;
const CABINETS = ['A', 'B', 'C'] as const;
const PROCEDURES = ['HT-KS', 'CC-02', 'DD-01', 'KH-03'] as const;

export interface SimTray {
  number: number;
  cabinet: string;
  size: 'S' | 'M' | 'L';
  state: PublishedTrayState;
  door: 'open' | 'closed' | 'unknown';
  /** The dossier it holds (holding_deposit / holding_result). */
  dossierCode: string | null;
  depositedAt: string | null;
}

/** A standard cabinet of 90 trays in three columns of 30, sizes S / M / L by row. */
export function newTrays(): SimTray[] {
  return Array.from({ length: TRAYS }, (_, i) => ({
    number: i + 1,
    cabinet: CABINETS[Math.floor(i / 30)],
    size: (['S', 'S', 'M', 'M', 'M', 'L'] as const)[i % 6],
    state: 'free' as PublishedTrayState,
    door: 'closed' as const,
    dossierCode: null,
    depositedAt: null,
  }));
}

export const procedure = (n: number): string => PROCEDURES[n % PROCEDURES.length];

/** A dossier code of the shape the kiosk issues (no personal data). */
export function dossierCode(): string {
  const alphabet = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
  let code = '';
  for (let i = 0; i < 9; i++) code += alphabet[Math.floor(Math.random() * alphabet.length)];
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

export function envelope<K extends EventType>(lockerId: string, type: K, at: string, data: EventPayload<K>): EventEnvelope<K> {
  return { id: randomUUID(), type, at, lockerId, data };
}

export function occupancy(trays: SimTray[], at: string): OccupancyPayload {
  const counts = { free: 0, reserved: 0, holding_deposit: 0, holding_result: 0, to_check: 0, out_of_service: 0 };
  for (const t of trays) counts[t.state] += 1;
  return { at, counts, trays: trays.map((t) => ({ number: t.number, state: t.state, door: t.door })) };
}

export function tray(t: SimTray, at: string): TrayPayload {
  return { number: t.number, cabinet: t.cabinet, size: t.size, state: t.state, door: t.door, at };
}

export interface SimRoundItem {
  tray: number;
  dossierCode: string;
  depositedAt: string | null;
  status: 'pending' | 'opened' | 'collected';
}

export interface SimRound {
  id: string;
  scheduledAt: string;
  status: 'upcoming' | 'due' | 'running';
  drawnAt: string | null;
  startedAt: string | null;
  /** Its manifest once drawn; before, the live preview is read from the trays. */
  items: SimRoundItem[];
}

/** `rounds/next`: the round staff should do now, else the next one with a live preview. */
export function roundNext(round: SimRound, trays: SimTray[], at: string): RoundNextPayload {
  const free = { S: 0, M: 0, L: 0 };
  for (const t of trays) if (t.state === 'free') free[t.size] += 1;
  const items: SimRoundItem[] =
    round.status === 'upcoming'
      ? trays
          .filter((t) => t.state === 'holding_deposit')
          .map((t) => ({ tray: t.number, dossierCode: t.dossierCode!, depositedAt: t.depositedAt, status: 'pending' }))
      : round.items;
  return {
    at,
    round: { id: round.id, scheduledAt: round.scheduledAt, status: round.status, drawnAt: round.drawnAt, startedAt: round.startedAt },
    collect: items.map((i) => ({
      tray: i.tray,
      dossierCode: i.dossierCode,
      procedureCode: procedure(i.tray),
      status: i.status,
      depositedAt: i.depositedAt,
    })),
    takeBack: [],
    check: [],
    freeTrays: free,
  };
}
