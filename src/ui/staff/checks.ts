/**
 * Trays to check (docs/adr/0012-uncertain-tray-outcomes.md): the controller could not watch the
 * tray's door for the whole time its lock was released, so an officer looks and answers "there is
 * a dossier" (found) or "the tray is empty" (empty). Shared by the round's manifest and the panel
 * of trays to check outside a round.
 */
import type { CheckKind, CheckOutcome } from '../../domain/api-staff.js';
import { formatDateTime } from '../shared/format.js';
import { html } from '../shared/html.js';
import { useLang, useTexts } from './lang.js';
import type { Texts } from './texts.js';

/** The message after an answer was recorded. */
export function answerDone(t: Texts, tray: number, dossierCode: string, kind: CheckKind | undefined, outcome: CheckOutcome): string {
  return t.checks.done[kind ?? 'unknown'][outcome](tray, dossierCode);
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
  const t = useTexts();
  const lang = useLang();
  // What each answer does, in one line, for the officer deciding.
  const hints = t.checks.hints[kind ?? 'unknown'];
  const id = `check-${scope}-${tray}`;
  return html` <li class="check-card" data-tray=${tray} aria-labelledby=${`${id}-title`}>
    <div class="check-head">
      <strong class="check-tray" id=${`${id}-title`}>${t.checks.tray(tray)}</strong>
      <span class="check-what"
        >${kind ? t.checks.kind[kind] : t.checks.unknownKind} ·
        <span class="code">${dossierCode}</span>${procedureCode ? ` · ${procedureCode}` : ''}</span
      >
      ${badge ? html`<span class=${`badge ${badge.cls}`}>${badge.text}</span>` : null}
    </div>
    ${since ? html`<p class="muted check-since">${t.checks.since(formatDateTime(since, lang))}</p>` : null}
    ${onOpen ? html`<div class="row"><button class="btn" disabled=${busy} onClick=${onOpen}>${t.round.openTray(tray)}</button></div>` : null}
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
                ${t.checks.found}
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
                ${t.checks.empty}
              </button>
              <p class="answer-hint" id=${`${id}-empty`}>${hints.empty}</p>
            </div>
          </div>`
        : null
    }
  </li>`;
}
