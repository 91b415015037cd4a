/**
 * Trays to check (docs/adr/0012-uncertain-tray-outcomes.md): the controller could not watch the
 * tray's door for the whole time its lock was released, so an officer looks and answers "there is
 * a dossier" (found) or "the tray is empty" (empty). Shared by the round's manifest and the panel
 * of trays to check outside a round.
 */
import type { CheckKind, CheckOutcome } from '../../domain/api-staff.js';
import { formatDateTime } from '../shared/format.js';
import { html } from '../shared/html.js';

export const KIND_NAMES: Record<CheckKind, string> = {
  deposit: 'Hồ sơ người dân nộp',
  load_result: 'Kết quả đang đưa vào máy',
  pickup: 'Kết quả đã mở cho người dân nhận',
};

/** What each answer does, in one line, for the officer deciding. */
const ANSWER_HINTS: Record<CheckKind | 'unknown', Record<CheckOutcome, string>> = {
  deposit: {
    found: 'Mang hồ sơ đi (tính là đã thu); người nộp nhận tin nhắn biên nhận.',
    empty: 'Hủy giao dịch nộp, khay được dùng lại; người nộp được nhắn tin báo.',
  },
  load_result: {
    found: 'Để kết quả trong khay; người dân được nhắn tin đến nhận.',
    empty: 'Hủy việc đưa kết quả vào máy, khay được dùng lại.',
  },
  pickup: {
    found: 'Để kết quả trong khay, tiếp tục chờ người dân đến nhận.',
    empty: 'Ghi nhận người dân đã lấy kết quả, khay được dùng lại.',
  },
  unknown: {
    found: 'Trong khay có hồ sơ hoặc kết quả.',
    empty: 'Trong khay không có gì.',
  },
};

/** The message after an answer was recorded. */
export function answerDone(tray: number, dossierCode: string, kind: CheckKind | undefined, outcome: CheckOutcome): string {
  const done: Record<CheckKind, Record<CheckOutcome, string>> = {
    deposit: {
      found: `Khay ${tray}: có hồ sơ ${dossierCode}. Đã ghi nhận là đã thu; người nộp được nhắn tin biên nhận.`,
      empty: `Khay ${tray}: khay trống. Giao dịch nộp ${dossierCode} đã hủy; người nộp được nhắn tin báo.`,
    },
    load_result: {
      found: `Khay ${tray}: có kết quả ${dossierCode}; người dân được nhắn tin đến nhận.`,
      empty: `Khay ${tray}: khay trống. Việc đưa kết quả ${dossierCode} vào máy đã hủy.`,
    },
    pickup: {
      found: `Khay ${tray}: kết quả ${dossierCode} vẫn trong khay, tiếp tục chờ người dân nhận.`,
      empty: `Khay ${tray}: khay trống. Kết quả ${dossierCode} được ghi nhận là người dân đã nhận.`,
    },
  };
  if (kind) return done[kind][outcome];
  return `Khay ${tray}: đã ghi nhận ${outcome === 'found' ? 'có hồ sơ' : 'khay trống'} (${dossierCode}).`;
}

export interface CheckCardProps {
  tray: number;
  dossierCode: string;
  kind?: CheckKind;
  procedureCode?: string;
  since?: string | null;
  /** A badge (the item's state in a round). */
  badge?: { cls: string; text: string } | null;
  /** Null: no answer can be given here (shown for information). */
  onAnswer: ((outcome: CheckOutcome) => void) | null;
  /** Opens the tray (in a running round, or from the list of trays to check). */
  onOpen?: (() => void) | null;
  busy: boolean;
  /** Keeps element ids apart when a tray shows in two lists. */
  scope: string;
}

export function CheckCard({ tray, dossierCode, kind, procedureCode, since, badge, onAnswer, onOpen, busy, scope }: CheckCardProps) {
  const hints = ANSWER_HINTS[kind ?? 'unknown'];
  const id = `check-${scope}-${tray}`;
  return html` <li class="check-card" data-tray=${tray} aria-labelledby=${`${id}-title`}>
    <div class="check-head">
      <strong class="check-tray" id=${`${id}-title`}>Khay ${tray}</strong>
      <span class="check-what"
        >${kind ? KIND_NAMES[kind] : 'Cần kiểm tra'} ·
        <span class="code">${dossierCode}</span>${procedureCode ? ` · ${procedureCode}` : ''}</span
      >
      ${badge ? html`<span class=${`badge ${badge.cls}`}>${badge.text}</span>` : null}
    </div>
    ${since ? html`<p class="muted check-since">Cần kiểm tra từ ${formatDateTime(since)}</p>` : null}
    ${onOpen ? html`<div class="row"><button class="btn" disabled=${busy} onClick=${onOpen}>Mở khay ${tray}</button></div>` : null}
    ${
      onAnswer
        ? html` <div class="answers">
            <div class="answer">
              <button
                class="btn btn-answer btn-found"
                disabled=${busy}
                aria-describedby=${`${id}-found`}
                onClick=${() => onAnswer('found')}
              >
                Có hồ sơ
              </button>
              <p class="answer-hint" id=${`${id}-found`}>${hints.found}</p>
            </div>
            <div class="answer">
              <button
                class="btn btn-answer btn-empty"
                disabled=${busy}
                aria-describedby=${`${id}-empty`}
                onClick=${() => onAnswer('empty')}
              >
                Khay trống
              </button>
              <p class="answer-hint" id=${`${id}-empty`}>${hints.empty}</p>
            </div>
          </div>`
        : null
    }
  </li>`;
}
