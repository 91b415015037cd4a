/**
 * The physical truth of the fault campaign, kept in the campaign process so that it outlives any
 * SIGKILL of the daemon: the simulated cabinet (doors, latches, the paper model's counts) and,
 * beside it, which dossier each sheet of paper is and where it is now — in a hand, in a tray, with
 * the citizen who took it home, or at the counter with the officer. Every door movement and every
 * sheet put in or taken out is written to the tray's timeline, with the faults active at that
 * moment, so that a broken invariant can be told as a story.
 */
import type { CabinetSimulator } from '../../hardware/simulator.js';

export type PaperKind = 'deposit' | 'result';

export type Place =
  | { at: 'hand'; who: string }
  | { at: 'tray'; tray: number }
  /** Taken home by the citizen (a result picked up). */
  | { at: 'citizen' }
  /** Taken by an officer: in her satchel until the controller has her answer, then at the counter. */
  | { at: 'satchel'; tray: number }
  | { at: 'counter' };

export interface Paper {
  id: number;
  kind: PaperKind;
  /** The dossier code as the campaign knows it, normalised (upper-case letters and digits only). */
  code: string;
  display: string;
  phone: string;
  place: Place;
  /** Trays it was ever put in. */
  trays: number[];
  /** What happened to it, for the report. */
  history: string[];
}

export function normalizeCode(code: string): string {
  return code.toUpperCase().replace(/[^A-Z0-9]/g, '');
}

export interface Finding {
  kind: string;
  tray: number;
  atS: number;
  detail: string;
  timeline: string[];
}

export class World {
  readonly papers = new Map<number, Paper>();
  private readonly inTray = new Map<number, number[]>();
  /** Bumped at every physical change of a tray (door or paper): a consistent-read guard. */
  private readonly versions = new Map<number, number>();
  private readonly timelines = new Map<number, string[]>();
  private readonly locks = new Map<number, Promise<void>>();
  private nextPaper = 1;
  doorMoves = 0;
  readonly doorMovesInFault: Record<string, number> = {};
  readonly findings: Finding[] = [];
  private readonly findingKeys = new Set<string>();

  constructor(
    readonly sim: CabinetSimulator,
    private readonly startedMs: number,
    /** Labels of the faults active now (for the timelines and the coverage figures). */
    private readonly activeFaults: () => string[],
  ) {}

  seconds(): number {
    return (Date.now() - this.startedMs) / 1000;
  }

  note(tray: number, text: string): void {
    let line = `${this.seconds().toFixed(1).padStart(7)}s ${text}`;
    const faults = this.activeFaults();
    if (faults.length) line += `   [faults: ${faults.join(', ')}]`;
    const list = this.timelines.get(tray) ?? [];
    list.push(line);
    if (list.length > 400) list.splice(0, list.length - 400);
    this.timelines.set(tray, list);
  }

  timeline(tray: number): string[] {
    return [...(this.timelines.get(tray) ?? [])];
  }

  version(tray: number): number {
    return this.versions.get(tray) ?? 0;
  }

  private bump(tray: number): void {
    this.versions.set(tray, this.version(tray) + 1);
  }

  newPaper(kind: PaperKind, display: string, phone: string, who: string): Paper {
    const paper: Paper = {
      id: this.nextPaper++,
      kind,
      code: normalizeCode(display),
      display,
      phone,
      place: { at: 'hand', who },
      trays: [],
      history: [`${this.seconds().toFixed(1)}s in the hand of ${who}`],
    };
    this.papers.set(paper.id, paper);
    return paper;
  }

  /** Sheets lying in the tray now (the simulator's count, with their identities). */
  papersIn(tray: number): Paper[] {
    return (this.inTray.get(tray) ?? []).map((id) => this.papers.get(id)!);
  }

  paperCount(tray: number): number {
    return this.sim.paper(tray);
  }

  /** Runs `fn` with the tray to oneself: two people do not work the same door at once. */
  async withTray<T>(tray: number, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(tray) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const chained = previous.then(() => mine);
    this.locks.set(tray, chained);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.locks.get(tray) === chained) this.locks.delete(tray);
    }
  }

  private countMove(): void {
    this.doorMoves += 1;
    for (const label of new Set(this.activeFaults().map((f) => f.split(' ')[0]))) {
      this.doorMovesInFault[label] = (this.doorMovesInFault[label] ?? 0) + 1;
    }
  }

  /** Pulls the door; it opens only if a pulse released its latch (and it has not locked again). */
  open(tray: number, who: string): boolean {
    const before = this.sim.trays().find((t) => t.tray === tray)?.door;
    const result = this.sim.setDoor(tray, true);
    if (!result.ok) {
      this.note(tray, `${who}: pulls the door: latched`);
      return false;
    }
    if (before !== 'open') {
      this.bump(tray);
      this.countMove();
    }
    this.note(tray, `${who}: opens the door (${this.sim.paper(tray)} inside)`);
    return true;
  }

  close(tray: number, who: string): void {
    this.sim.setDoor(tray, false);
    this.bump(tray);
    this.countMove();
    this.note(tray, `${who}: shuts the door`);
  }

  put(tray: number, paper: Paper, who: string): boolean {
    if (!this.sim.putPaper(tray)) {
      this.note(tray, `${who}: cannot put ${paper.display} in (door shut)`);
      return false;
    }
    const list = this.inTray.get(tray) ?? [];
    list.push(paper.id);
    this.inTray.set(tray, list);
    paper.place = { at: 'tray', tray };
    paper.trays.push(tray);
    paper.history.push(`${this.seconds().toFixed(1)}s put in tray ${tray} by ${who}`);
    this.bump(tray);
    this.note(tray, `${who}: puts ${paper.kind} ${paper.display} in`);
    return true;
  }

  /** Takes the sheets `which` picks (all by default) out of the open tray; returns them. */
  take(tray: number, who: string, to: Place, which: (p: Paper) => boolean = () => true): Paper[] {
    const taken: Paper[] = [];
    for (const paper of this.papersIn(tray)) {
      if (!which(paper)) continue;
      if (!this.sim.takePaper(tray)) break;
      const list = this.inTray.get(tray)!;
      list.splice(list.indexOf(paper.id), 1);
      paper.place = to;
      paper.history.push(`${this.seconds().toFixed(1)}s taken from tray ${tray} by ${who} (${to.at})`);
      taken.push(paper);
    }
    if (taken.length) {
      this.bump(tray);
      this.note(tray, `${who}: takes ${taken.map((p) => `${p.kind} ${p.display}`).join(', ')} out`);
    }
    return taken;
  }

  /** Every tray's timeline and every sheet's history, for the run directory. */
  dump(): string {
    const out: string[] = [];
    for (const tray of [...this.timelines.keys()].sort((a, b) => a - b)) {
      out.push(`tray ${tray}`, ...this.timeline(tray).map((l) => `  ${l}`));
    }
    for (const paper of this.papers.values()) {
      out.push(
        `${paper.kind} ${paper.display} (${paper.phone}): now ${paper.place.at}${paper.place.at === 'tray' ? ` ${paper.place.tray}` : ''}`,
        ...paper.history.map((l) => `  ${l}`),
      );
    }
    return out.join('\n') + '\n';
  }

  /** Records a finding once per key; returns whether it was new. */
  find(key: string, kind: string, tray: number, detail: string): boolean {
    if (this.findingKeys.has(key)) return false;
    this.findingKeys.add(key);
    this.note(tray, `!! ${kind}: ${detail}`);
    this.findings.push({ kind, tray, atS: this.seconds(), detail, timeline: this.timeline(tray) });
    return true;
  }
}
