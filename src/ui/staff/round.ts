/**
 * The round tab: the round's manifest (deposits to collect, results to take back, trays to check),
 * started, answered tray by tray and completed, and below it the trays to check outside the round.
 */
import { useEffect, useState } from 'preact/hooks';
import type { CheckKind, CheckView, Manifest, RoundCompleted } from '../../domain/api-staff.js';
import { api, ApiError } from '../shared/api.js';
import { formatTime } from '../shared/format.js';
import { html } from '../shared/html.js';
import { useLang, useTexts } from './lang.js';
import { MessageLine, useMessage, type Words } from './message.js';
import type { Props } from './panels.js';
import { isOpen, ItemTable, OutsideChecks, RoundChecks, type Item } from './round-manifest.js';

/** The round tab. One message at a time: every new answer replaces the last one, success or failure. */
export function Round({ token, onUnauthorized }: Props) {
  const t = useTexts();
  const lang = useLang();
  const [manifest, setManifest] = useState<Manifest | null>(null);
  const [checks, setChecks] = useState<CheckView[] | null>(null);
  const [busy, setBusy] = useState(false);
  const { message, setMessage, say, fail: failWith } = useMessage(onUnauthorized);
  const load = async () => {
    try {
      const [m, c] = await Promise.all([
        api<Manifest>('GET', '/api/staff/rounds/next', { token }),
        api<CheckView[]>('GET', '/api/staff/checks', { token }).catch((err) => {
          // A controller without trays to check: the panel says so instead of failing the round.
          if (err instanceof ApiError && err.status === 404) return null;
          throw err;
        }),
      ]);
      setManifest(m);
      setChecks(c);
      // A failed refresh is forgotten once one succeeds; an answer's message stays.
      setMessage((old) => (old?.fromPoll ? null : old));
    } catch (err) {
      failWith(err, true);
    }
  };
  useEffect(() => {
    void load();
    const timer = setInterval(load, 5_000);
    return () => clearInterval(timer);
  }, []);
  /** Sends one answer; its message (done, or why not) replaces the previous one. */
  const act = async <T>(
    method: string,
    url: string,
    body: unknown,
    done: ((r: T) => Words) | null,
    words?: (err: ApiError) => Words | null,
  ): Promise<T | null> => {
    if (busy) return null;
    setBusy(true);
    setMessage(null);
    try {
      const r = await api<T>(method, url, { token, body });
      if (done) say('ok', done(r));
      return r;
    } catch (err) {
      failWith(err, false, words);
      return null;
    } finally {
      // The lists are fresh before the buttons come back: no second answer for a tray just answered.
      await load();
      setBusy(false);
    }
  };

  if (!manifest) {
    return html`<section class="panel">
      <${MessageLine} message=${message} />
      <p class="muted">${t.loading}</p>
    </section>`;
  }
  const { round } = manifest;
  const base = `/api/staff/rounds/${round.id}`;
  const running = round.status === 'running';
  const kindOf = new Map<number, CheckKind>((checks ?? []).map((c) => [c.tray, c.kind]));
  const checkItems: Item[] = manifest.check;
  // A check of this round answered meanwhile outside it (the tray is no longer to check).
  const answeredElsewhere = (i: Item) => checks !== null && isOpen(i) && !kindOf.has(i.tray);
  const inRound = new Set(running ? checkItems.filter((i) => isOpen(i) && !answeredElsewhere(i)).map((i) => i.tray) : []);
  const outside = (checks ?? []).filter((c) => !inRound.has(c.tray));
  const answering = { base, busy, act };
  const open = [...manifest.collect, ...manifest.takeBack, ...checkItems].filter((i) => isOpen(i) && !answeredElsewhere(i)).length;
  const complete = () =>
    act<RoundCompleted>('POST', `${base}/complete`, undefined, (r) => (tx) => {
      const counts = Object.keys(tx.round.counts)
        .filter((k) => r.counts[k])
        .map((k) => `${r.counts[k]} ${tx.round.counts[k]}`);
      return tx.round.completed(formatTime(round.scheduledAt, lang), counts);
    });

  return html` <${MessageLine} message=${message} />
    <section class="panel">
      <div class="round-head">
        <h2>
          ${t.round.heading(formatTime(round.scheduledAt, lang))}
          <span class=${`badge r-${round.status}`}>${t.round.status[round.status]}</span>
        </h2>
        <p class="muted">${t.round.freeTrays(manifest.freeTrays.S, manifest.freeTrays.M, manifest.freeTrays.L)}</p>
      </div>
      <div class="row">
        ${
          round.status === 'due' || round.status === 'upcoming'
            ? html` <button class="btn btn-primary" disabled=${busy} onClick=${() => act<Manifest>('POST', `${base}/start`, {}, null)}>
                  ${t.round.start}
                </button>
                <button class="btn" disabled=${busy} onClick=${() => act<Manifest>('POST', `${base}/start`, { oneAtATime: true }, null)}>
                  ${t.round.startOneByOne}
                </button>`
            : null
        }
        ${
          running
            ? html`<button class="btn btn-primary" disabled=${open > 0 || busy} onClick=${complete}>${t.round.complete(open)}</button>`
            : null
        }
      </div>
      <${RoundChecks} items=${checkItems} running=${running} kindOf=${kindOf} answeredElsewhere=${answeredElsewhere} ...${answering} />
      <${ItemTable} kind="collect" items=${manifest.collect} scheduledAt=${round.scheduledAt} running=${running} ...${answering} />
      <${ItemTable} kind="takeBack" items=${manifest.takeBack} scheduledAt=${round.scheduledAt} running=${running} ...${answering} />
    </section>
    <${OutsideChecks} checks=${checks} outside=${outside} anyInRound=${inRound.size > 0} ...${answering} />`;
}
