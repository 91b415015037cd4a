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
import type { ApiError } from '../shared/api.js';
import { formatDateTime } from '../shared/format.js';
import { html } from '../shared/html.js';
import { answerDone, CheckCard, KIND_NAMES } from './checks.js';

/** A tray of the manifest: a deposit to collect, a result to take back or a tray to check. */
export type Item = ManifestItem & Partial<Pick<CollectItem, 'depositedAt'>> & Partial<Pick<TakeBackItem, 'expiredAt'>>;

const ITEM_STATUS: Record<RoundItemStatus, string> = {
  pending: 'Chưa mở',
  opened: 'Đã mở',
  collected: 'Đã lấy',
  missing: 'Không thấy',
  returned: 'Đã mang về',
  found: 'Có hồ sơ',
  empty: 'Khay trống',
};

export const isOpen = (i: Item) => i.status === 'pending' || i.status === 'opened';

/** How the round sends an answer (its `act`): the method, the address, the body, the message once done, the words for a refusal. */
export type Act = <T>(
  method: string,
  url: string,
  body: unknown,
  done: ((r: T) => string) | null,
  words?: (err: ApiError) => string | null,
) => Promise<T | null>;

/** What a list needs to answer: the round's address, whether an answer is under way, how to send one. */
interface Answering {
  base: string;
  busy: boolean;
  act: Act;
}

const TABLES = {
  collect: { title: 'Hồ sơ cần thu', at: 'Nộp lúc', none: 'Không có hồ sơ nào chờ thu.' },
  takeBack: { title: 'Kết quả quá hạn cần mang về', at: 'Quá hạn lúc', none: 'Không có kết quả quá hạn.' },
};

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
  const { title, at, none } = TABLES[kind];
  const rows = items.map(
    (i) =>
      html` <tr data-tray=${i.tray}>
        <td class="tray-cell">${i.tray}</td>
        <td class="code">${i.dossierCode}</td>
        <td>${i.procedureCode}</td>
        <td>${formatDateTime((kind === 'collect' ? i.depositedAt : i.expiredAt) ?? scheduledAt)}</td>
        <td><span class=${`badge b-${i.status}`}>${ITEM_STATUS[i.status] ?? i.status}</span></td>
        <td class="row-actions">
          ${
            running && isOpen(i)
              ? html` <button
                    class="btn"
                    disabled=${busy}
                    onClick=${() => act<TrayOpened>('POST', `${base}/items/${i.tray}/open`, undefined, null)}
                  >
                    Mở khay ${i.tray}
                  </button>
                  <button
                    class="btn btn-primary"
                    disabled=${busy}
                    onClick=${() =>
                      act<Manifest>(
                        'POST',
                        `${base}/items/${i.tray}`,
                        { outcome: kind === 'collect' ? 'collected' : 'returned' },
                        () => `Khay ${i.tray}: ${kind === 'collect' ? 'đã lấy hồ sơ' : 'đã mang về kết quả'} ${i.dossierCode}.`,
                      )}
                  >
                    ${kind === 'collect' ? 'Đã lấy' : 'Đã mang về'}
                  </button>
                  <button
                    class="btn btn-danger"
                    disabled=${busy}
                    onClick=${() =>
                      act<Manifest>(
                        'POST',
                        `${base}/items/${i.tray}`,
                        { outcome: 'missing' },
                        () => `Khay ${i.tray}: ghi nhận không thấy ${i.dossierCode}.`,
                      )}
                  >
                    Không thấy
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
                <th>Khay</th>
                <th>Mã hồ sơ</th>
                <th>Thủ tục</th>
                <th>${at}</th>
                <th>Trạng thái</th>
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
  if (!items.length) return null;
  const answerInRound = (i: Item) => (outcome: CheckOutcome) =>
    act<Manifest>(
      'POST',
      `${base}/items/${i.tray}`,
      { outcome },
      () => answerDone(i.tray, i.dossierCode, kindOf.get(i.tray), outcome),
      (err) => (err.code === 'CONFLICT' ? `Khay ${i.tray} đã được kiểm tra ngoài lượt thu, không cần trả lời lại.` : null),
    );
  return html` <h3>Khay cần kiểm tra trong lượt này (${items.length})</h3>
    ${
      running
        ? html` <p class="muted">Máy không theo dõi được cửa các khay này: mở khay, nhìn vào trong rồi chọn một câu trả lời.</p>
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
                  badge=${elsewhere ? { cls: 'b-found', text: 'Đã kiểm tra ngoài lượt' } : { cls: `b-${i.status}`, text: ITEM_STATUS[i.status] ?? i.status }}
                  onOpen=${answerable ? () => act<TrayOpened>('POST', `${base}/items/${i.tray}/open`, undefined, null) : null}
                  onAnswer=${answerable ? answerInRound(i) : null}
                />`;
              })}
            </ul>`
        : html` <p class="muted">Trả lời ngay ở mục "Khay cần kiểm tra" bên dưới, hoặc khi lượt thu bắt đầu.</p>
            <table>
              <thead>
                <tr>
                  <th>Khay</th>
                  <th>Mã hồ sơ</th>
                  <th>Thủ tục</th>
                  <th>Loại</th>
                  <th>Trạng thái</th>
                </tr>
              </thead>
              <tbody>
                ${items.map(
                  (i) =>
                    html`<tr data-tray=${i.tray}>
                      <td class="tray-cell">${i.tray}</td>
                      <td class="code">${i.dossierCode}</td>
                      <td>${i.procedureCode}</td>
                      <td>${kindOf.has(i.tray) ? KIND_NAMES[kindOf.get(i.tray)!] : '–'}</td>
                      <td>
                        <span class=${`badge b-${answeredElsewhere(i) ? 'found' : i.status}`}
                          >${answeredElsewhere(i) ? 'Đã kiểm tra' : (ITEM_STATUS[i.status] ?? i.status)}</span
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
  const answerOutside = (c: CheckView) => (outcome: CheckOutcome) =>
    act<CheckAnswered>(
      'POST',
      `/api/staff/checks/${c.tray}`,
      { outcome },
      () => answerDone(c.tray, c.dossierCode, c.kind, outcome),
      (err) => (err.code === 'ITEM_NOT_FOUND' ? `Khay ${c.tray} không còn cần kiểm tra (đã có người trả lời).` : null),
    );
  return html`<section class="panel" aria-labelledby="checks-title">
    <h2 id="checks-title">Khay cần kiểm tra${checks ? ` (${outside.length})` : ''}</h2>
    ${
      checks === null
        ? html`<p class="muted">Bộ điều khiển này chưa có danh sách khay cần kiểm tra.</p>`
        : outside.length
          ? html` <p class="muted">
                Máy không theo dõi được cửa các khay này (mất điện, bảng khóa không trả lời…) nên không biết trong khay có gì. Nhìn vào khay
                rồi chọn một câu trả lời; không cần đợi lượt thu.
              </p>
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
          : html`<p class="muted">
              ${anyInRound ? 'Các khay cần kiểm tra đều nằm trong lượt thu ở trên.' : 'Không có khay nào cần kiểm tra.'}
            </p>`
    }
  </section>`;
}
