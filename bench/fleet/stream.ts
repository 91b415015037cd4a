/**
 * The dashboard's live stream as the bench reads it (`GET /api/fleet/stream?token=…`, server-sent
 * events `lockers`: `{full, lockers: FleetLockerSummary[]}`): every summary's arrival is kept per
 * locker (when, `stateAt`, `lastEvent.at`, `online`), and matched with what was published after
 * the run (`shownAt`).
 */
import http from 'node:http';
import type { FleetLockerSummary } from '../../src/domain/api-fleet.js';

/** What the stream said of one locker, in arrival order. */
export interface Timeline {
  arrival: number[];
  stateAt: number[];
  eventAt: number[];
  /** 1 online, 0 offline, -1 not known. */
  online: number[];
}

export class StreamReader {
  readonly lockers = new Map<string, Timeline>();
  /** Full lists received (the first, and any sent again after the stream lost track). */
  fulls = 0;
  batches = 0;
  summaries = 0;
  reconnects = 0;
  lastArrival = 0;
  bytes = 0;
  private req: http.ClientRequest | undefined;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  /** Resolves once the first full list arrived. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => this.open(resolve, reject));
  }

  private open(resolve: () => void, reject: (err: Error) => void): void {
    const req = http.get(`${this.url}/api/fleet/stream?token=${encodeURIComponent(this.token)}`, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`stream: HTTP ${res.statusCode}`));
        res.resume();
        return;
      }
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk: string) => {
        const now = Date.now();
        this.bytes += chunk.length;
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (event !== 'lockers' || !data) continue;
          const body = JSON.parse(data) as { full: boolean; lockers: FleetLockerSummary[] };
          this.onBatch(now, body);
          if (body.full) resolve();
        }
      });
      res.on('close', () => {
        if (this.closed) return;
        // The stream ended under the bench: counted, and read again (a full list comes first).
        this.reconnects += 1;
        setTimeout(() => this.open(resolve, reject), 200);
      });
    });
    req.on('error', (err) => {
      if (!this.closed) reject(err);
    });
    this.req = req;
  }

  private onBatch(now: number, body: { full: boolean; lockers: FleetLockerSummary[] }): void {
    if (body.full) this.fulls += 1;
    else this.batches += 1;
    this.lastArrival = now;
    for (const s of body.lockers) {
      this.summaries += 1;
      let t = this.lockers.get(s.lockerId);
      if (!t) {
        t = { arrival: [], stateAt: [], eventAt: [], online: [] };
        this.lockers.set(s.lockerId, t);
      }
      t.arrival.push(now);
      t.stateAt.push(s.stateAt ? Date.parse(s.stateAt) : 0);
      t.eventAt.push(s.lastEvent?.at ? Date.parse(s.lastEvent.at) : 0);
      t.online.push(s.online === null ? -1 : s.online ? 1 : 0);
    }
  }

  close(): void {
    this.closed = true;
    this.req?.destroy();
  }
}

/**
 * When each published `at` was first shown: the arrival of the first summary of its locker whose
 * value (`stateAt` or `lastEvent.at`) is at or after it (a change may come coalesced with later
 * ones). `ats` and the result are parallel; NaN where it was never shown.
 */
export function shownAt(t: Timeline | undefined, values: 'stateAt' | 'eventAt', ats: number[]): number[] {
  if (!t) return ats.map(() => NaN);
  // The highest value so far, per arrival: the first arrival where it reaches `at` is the answer.
  const reach: number[] = [];
  let max = 0;
  for (const v of t[values]) reach.push((max = Math.max(max, v)));
  return ats.map((at) => {
    let lo = 0;
    let hi = reach.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (reach[mid] >= at) hi = mid;
      else lo = mid + 1;
    }
    return lo < reach.length ? t.arrival[lo] : NaN;
  });
}

/** The first arrival at or after `from` with the locker shown `online` (1) or offline (0). */
export function onlineShownAt(t: Timeline | undefined, from: number, online: 0 | 1): number {
  if (!t) return NaN;
  for (let i = 0; i < t.arrival.length; i++) if (t.arrival[i] >= from && t.online[i] === online) return t.arrival[i];
  return NaN;
}
