/**
 * The round tab: the round's manifest (deposits to collect, results to take back, trays to check),
 * started, answered tray by tray and completed, and below it the trays to check outside the round.
 */
import { useEffect, useState } from 'preact/hooks';
import type { CheckKind, CheckView, Manifest, RoundCompleted, RoundStatus } from '../../domain/api-staff.js';
import { api, ApiError } from '../shared/api.js';
import { formatTime } from '../shared/format.js';
import { html } from '../shared/html.js';
import { errorWords } from './main.js';
import type { Props } from './panels.js';
import { isOpen, ItemTable, OutsideChecks, RoundChecks, type Item } from './round-manifest.js';

const ROUND_STATUS: Partial<Record<RoundStatus, string>> = {
  upcoming: 'Sắp tới',
  due: 'Đến giờ',
  running: 'Đang thu',
  completed: 'Đã xong',
};
const COUNT_NAMES: [string, string][] = [
  ['collected', 'đã lấy'],
  ['returned', 'đã mang về'],
  ['missing', 'không thấy'],
  ['found', 'có hồ sơ'],
  ['empty', 'khay trống'],
  ['leftInPlace', 'để lại trong máy'],
];

/** One message at a time: every new answer replaces the last one, success or failure. */
type Message = { tone: 'ok' | 'error'; text: string; fromPoll?: boolean } | null;

function MessageLine({ message }: { message: Message }) {
  // Kept in sight at the top of the screen: the officer answers far down a long manifest.
  return html` <div class="message">
    <div role="alert">${message?.tone === 'error' ? html`<p class="error">${message.text}</p>` : null}</div>
    <div aria-live="polite">${message?.tone === 'ok' ? html`<p class="notice">${message.text}</p>` : null}</div>
  </div>`;
}

/**
 * The round tab: the round's manifest (deposits to collect, results to take back, trays to check)
 * and, below it, the trays to check that are not in the running round, answered on their own.
 */
export function Round({ token, onUnauthorized }: Props) {
  const [manifest, setManifest] = useState<Manifest | null>(null);
  const [checks, setChecks] = useState<CheckView[] | null>(null);
  const [message, setMessage] = useState<Message>(null);
  const [busy, setBusy] = useState(false);
  const say = (tone: 'ok' | 'error', text: string, fromPoll = false) => setMessage({ tone, text, fromPoll });
  const failWith = (err: unknown, fromPoll = false, words?: (err: ApiError) => string | null) => {
    if (err instanceof ApiError && err.status === 401) onUnauthorized();
    else say('error', (err instanceof ApiError && words?.(err)) || errorWords(err), fromPoll);
  };
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
    done: ((r: T) => string) | null,
    words?: (err: ApiError) => string | null,
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
      <p class="muted">Đang tải…</p>
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
    act<RoundCompleted>('POST', `${base}/complete`, undefined, (r) => {
      const counts = r.counts;
      const words = COUNT_NAMES.filter(([k]) => counts[k]).map(([k, name]) => `${counts[k]} ${name}`);
      return `Đã hoàn tất lượt thu ${formatTime(round.scheduledAt)}: ${words.length ? words.join(', ') : 'không có khay nào'}.`;
    });

  return html` <${MessageLine} message=${message} />
    <section class="panel">
      <div class="round-head">
        <h2>
          Lượt thu ${formatTime(round.scheduledAt)}
          <span class=${`badge r-${round.status}`}>${ROUND_STATUS[round.status] ?? round.status}</span>
        </h2>
        <p class="muted">Khay trống: S ${manifest.freeTrays.S} · M ${manifest.freeTrays.M} · L ${manifest.freeTrays.L}</p>
      </div>
      <div class="row">
        ${
          round.status === 'due' || round.status === 'upcoming'
            ? html` <button class="btn btn-primary" disabled=${busy} onClick=${() => act<Manifest>('POST', `${base}/start`, {}, null)}>
                  Bắt đầu lượt thu (mở các khay lần lượt)
                </button>
                <button class="btn" disabled=${busy} onClick=${() => act<Manifest>('POST', `${base}/start`, { oneAtATime: true }, null)}>
                  Bắt đầu, mở từng khay một
                </button>`
            : null
        }
        ${
          running
            ? html`<button class="btn btn-primary" disabled=${open > 0 || busy} onClick=${complete}>
                Hoàn tất lượt thu${open ? ` (còn ${open} khay)` : ''}
              </button>`
            : null
        }
      </div>
      <${RoundChecks} items=${checkItems} running=${running} kindOf=${kindOf} answeredElsewhere=${answeredElsewhere} ...${answering} />
      <${ItemTable} kind="collect" items=${manifest.collect} scheduledAt=${round.scheduledAt} running=${running} ...${answering} />
      <${ItemTable} kind="takeBack" items=${manifest.takeBack} scheduledAt=${round.scheduledAt} running=${running} ...${answering} />
    </section>
    <${OutsideChecks} checks=${checks} outside=${outside} anyInRound=${inRound.size > 0} ...${answering} />`;
}
