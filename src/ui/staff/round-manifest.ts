/**
 * The round's manifest, list by list: the deposits to collect and the results to take back (a table
 * each, answered tray by tray while the round runs), the trays to check in the round, and the trays
 * to check outside it, answered on their own.
 */
import type {
  CheckAnswered,
  CheckKind,
  CheckOutcome,
  CheckView,
  CollectItem,
  Manifest,
  ManifestItem,
  RoundItemStatus,
  TakeBackItem,
  TrayOpened,
} from '../../domain/api-staff.js';
import type { CardHolderView } from '../../domain/api-id-cards.js';
import type { ApiError } from '../shared/api.js';
import { formatDateTime, formatFee } from '../shared/format.js';
import { html } from '../shared/html.js';
import { answerDone, CheckCard } from './checks.js';
import { useLang, useTexts } from './lang.js';
import type { Words } from './message.js';

/** A tray of the manifest: a deposit to collect, a result to take back or a tray to check. */
export type Item = ManifestItem &
  Partial<Pick<CollectItem, 'depositedAt' | 'fee'>> &
  Partial<Pick<TakeBackItem, 'expiredAt'>> & {
    /** The depositor, for a deposit made with a scanned citizen ID card (the staff answer only, docs/id-card.md). */
    holder?: CardHolderView;
  };

export const isOpen = (i: Item) => i.status === 'pending' || i.status === 'opened';

/** "trực tuyến" beside a code that is the online system's number (a dossier filed online, ADR 0029). */
function OnlineMark(t: ReturnType<typeof useTexts>, i: ManifestItem) {
  return i.online ? html` <span class="badge online" data-online="true" title=${t.round.onlineTitle}>${t.round.online}</span>` : null;
}

/** How the round sends an answer (its `act`): the method, the address, the body, the message once done, the words for a refusal. */
export type Act = <T>(
  method: string,
  url: string,
  body: unknown,
  done: ((r: T) => Words) | null,
  words?: (err: ApiError) => Words | null,
) => Promise<T | null>;

/** What a list needs to answer: the round's address, whether an answer is under way, how to send one. */
interface Answering {
  base: string;
  busy: boolean;
  act: Act;
}

/** The deposits to collect, or the results to take back: while the round runs, each open tray is opened and answered. */
export function ItemTable({
  kind,
  items,
  scheduledAt,
  running,
  base,
  busy,
  act,
}: Answering & { kind: 'collect' | 'takeBack'; items: Item[]; scheduledAt: string; running: boolean }) {
  const t = useTexts();
  const lang = useLang();
  const { title, at, none } = t.round[kind];
  const itemStatus: Record<RoundItemStatus, string> = t.round.itemStatus;
  const rows = items.map(
    (i) =>
      html` <tr data-tray=${i.tray}>
        <td class="tray-cell">${i.tray}</td>
        <td class="code">
          ${i.dossierCode}${OnlineMark(t, i)}
          ${
            i.holder
              ? html`<div class="holder" data-holder="true">
                  ${t.round.depositor}: <strong>${i.holder.fullName}</strong> · ${i.holder.idNumberMasked}
                </div>`
              : null
          }
        </td>
        <td>
          ${i.procedureCode}
          ${
            i.fee
              ? html`<span class=${`badge fee ${i.fee.paid ? 'fee-paid' : 'fee-unpaid'}`} data-fee=${i.fee.paid ? 'paid' : 'unpaid'}>
                  ${(i.fee.paid ? t.round.feePaid : t.round.feeUnpaid)(formatFee(i.fee.amount, lang))}
                </span>`
              : null
          }
        </td>
        <td>${formatDateTime((kind === 'collect' ? i.depositedAt : i.expiredAt) ?? scheduledAt, lang)}</td>
        <td><span class=${`badge b-${i.status}`}>${itemStatus[i.status]}</span></td>
        <td class="row-actions">
          ${
            running && isOpen(i)
              ? html` <button
                    class="btn"
                    disabled=${busy}
                    onClick=${() => act<TrayOpened>('POST', `${base}/items/${i.tray}/open`, undefined, null)}
                  >
                    ${t.round.openTray(i.tray)}
                  </button>
                  <button
                    class="btn btn-primary"
                    disabled=${busy}
                    onClick=${() =>
                      act<Manifest>(
                        'POST',
                        `${base}/items/${i.tray}`,
                        { outcome: kind === 'collect' ? 'collected' : 'returned' },
                        () => (tx) => (kind === 'collect' ? tx.round.doneCollected : tx.round.doneReturned)(i.tray, i.dossierCode),
                      )}
                  >
                    ${kind === 'collect' ? t.round.collectedButton : t.round.returnedButton}
                  </button>
                  <button
                    class="btn btn-danger"
                    disabled=${busy}
                    onClick=${() =>
                      act<Manifest>(
                        'POST',
                        `${base}/items/${i.tray}`,
                        { outcome: 'missing' },
                        () => (tx) => tx.round.doneMissing(i.tray, i.dossierCode),
                      )}
                  >
                    ${t.round.missingButton}
                  </button>`
              : null
          }
        </td>
      </tr>`,
  );
  return html`<h3>${title} (${items.length})</h3>
    ${
      items.length
        ? html`<table>
            <thead>
              <tr>
                <th>${t.columns.tray}</th>
                <th>${t.columns.code}</th>
                <th>${t.columns.procedure}</th>
                <th>${at}</th>
                <th>${t.columns.status}</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              ${rows}
            </tbody>
          </table>`
        : html`<p class="muted">${none}</p>`
    }`;
}

/**
 * The trays to check of this round: answered in the round while it runs (unless answered meanwhile
 * outside it), listed before it starts.
 */
export function RoundChecks({
  items,
  running,
  kindOf,
  answeredElsewhere,
  base,
  busy,
  act,
}: Answering & { items: Item[]; running: boolean; kindOf: Map<number, CheckKind>; answeredElsewhere: (i: Item) => boolean }) {
  const t = useTexts();
  if (!items.length) return null;
  const itemStatus: Record<RoundItemStatus, string> = t.round.itemStatus;
  const answerInRound = (i: Item) => (outcome: CheckOutcome) =>
    act<Manifest>(
      'POST',
      `${base}/items/${i.tray}`,
      { outcome },
      () => (tx) => answerDone(tx, i.tray, i.dossierCode, kindOf.get(i.tray), outcome),
      (err) => (err.code === 'CONFLICT' ? (tx) => tx.round.checkedOutsideAlready(i.tray) : null),
    );
  return html` <h3>${t.round.checksTitle(items.length)}</h3>
    ${
      running
        ? html` <p class="muted">${t.round.checksHint}</p>
            <ul class="checks">
              ${items.map((i) => {
                const elsewhere = answeredElsewhere(i);
                const answerable = isOpen(i) && !elsewhere;
                return html`<${CheckCard}
                  key=${i.tray}
                  scope="round"
                  tray=${i.tray}
                  dossierCode=${i.dossierCode}
                  procedureCode=${i.procedureCode}
                  kind=${kindOf.get(i.tray)}
                  busy=${busy}
                  badge=${elsewhere ? { cls: 'b-found', text: t.round.checkedOutside } : { cls: `b-${i.status}`, text: itemStatus[i.status] }}
                  onOpen=${answerable ? () => act<TrayOpened>('POST', `${base}/items/${i.tray}/open`, undefined, null) : null}
                  onAnswer=${answerable ? answerInRound(i) : null}
                />`;
              })}
            </ul>`
        : html` <p class="muted">${t.round.checksBeforeStart}</p>
            <table>
              <thead>
                <tr>
                  <th>${t.columns.tray}</th>
                  <th>${t.columns.code}</th>
                  <th>${t.columns.procedure}</th>
                  <th>${t.columns.kind}</th>
                  <th>${t.columns.status}</th>
                </tr>
              </thead>
              <tbody>
                ${items.map(
                  (i) =>
                    html`<tr data-tray=${i.tray}>
                      <td class="tray-cell">${i.tray}</td>
                      <td class="code">${i.dossierCode}${OnlineMark(t, i)}</td>
                      <td>${i.procedureCode}</td>
                      <td>${kindOf.has(i.tray) ? t.checks.kind[kindOf.get(i.tray)!] : '–'}</td>
                      <td>
                        <span class=${`badge b-${answeredElsewhere(i) ? 'found' : i.status}`}
                          >${answeredElsewhere(i) ? t.round.checkedElsewhere : itemStatus[i.status]}</span
                        >
                      </td>
                    </tr>`,
                )}
              </tbody>
            </table>`
    }`;
}

/**
 * The trays to check that are not in the running round, answered on their own (`checks` is null on
 * a controller without trays to check).
 */
export function OutsideChecks({
  checks,
  outside,
  anyInRound,
  busy,
  act,
}: Answering & { checks: CheckView[] | null; outside: CheckView[]; anyInRound: boolean }) {
  const t = useTexts();
  const answerOutside = (c: CheckView) => (outcome: CheckOutcome) =>
    act<CheckAnswered>(
      'POST',
      `/api/staff/checks/${c.tray}`,
      { outcome },
      () => (tx) => answerDone(tx, c.tray, c.dossierCode, c.kind, outcome),
      (err) => (err.code === 'ITEM_NOT_FOUND' ? (tx) => tx.outside.gone(c.tray) : null),
    );
  return html`<section class="panel" aria-labelledby="checks-title">
    <h2 id="checks-title">${t.outside.title(checks ? outside.length : null)}</h2>
    ${
      checks === null
        ? html`<p class="muted">${t.outside.unavailable}</p>`
        : outside.length
          ? html` <p class="muted">${t.outside.hint}</p>
              <ul class="checks">
                ${outside.map(
                  (c) =>
                    html`<${CheckCard}
                      key=${c.tray}
                      tray=${c.tray}
                      dossierCode=${c.dossierCode}
                      kind=${c.kind}
                      scope="alone"
                      since=${c.since}
                      busy=${busy}
                      onAnswer=${answerOutside(c)}
                      onOpen=${() => act<TrayOpened>('POST', `/api/staff/checks/${c.tray}/open`, undefined, null)}
                    />`,
                )}
              </ul>`
          : html`<p class="muted">${anyInRound ? t.outside.allInRound : t.outside.none}</p>`
    }
  </section>`;
}
