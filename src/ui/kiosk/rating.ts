/**
 * The satisfaction rating on the deposit's receipt and the pickup's "done": four faces, one touch
 * sends the first two; the last two show optional reason chips and a send button. "Bỏ qua" sends
 * nothing. A face of the last two chosen and not sent is sent when the screen is left (its reasons
 * as chosen), so that an unhappy citizen who walks away is still counted. One rating per visit,
 * with the token the code check gave; the panel never holds the session longer than the screen's
 * own idle time.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { RatingRecorded } from '../../domain/api.js';
import { RATING_REASONS, RATINGS, RATINGS_WITH_REASONS, type Rating, type RatingReason } from '../../domain/ratings.js';
import { api, ApiError } from '../shared/api.js';
import { html } from '../shared/html.js';
import { errorText } from './errors.js';
import type { Texts } from './texts.js';

/** The mouth of each face, in a 64×64 box: a wide smile, a smile, a straight line, a frown. */
const MOUTHS: Record<Rating, string> = {
  very_satisfied: 'M18 38 Q32 54 46 38',
  satisfied: 'M21 40 Q32 48 43 40',
  neutral: 'M22 43 L42 43',
  dissatisfied: 'M21 47 Q32 37 43 47',
};

function Face({ rating }: { rating: Rating }) {
  return html`<svg class="face-icon" viewBox="0 0 64 64" aria-hidden="true" focusable="false">
    <circle cx="32" cy="32" r="29" class="face-disc" />
    <circle cx="23" cy="25" r="4" class="face-ink-fill" />
    <circle cx="41" cy="25" r="4" class="face-ink-fill" />
    <path d=${MOUTHS[rating]} class="face-ink" />
  </svg>`;
}

type Phase = 'ask' | 'sending' | 'sent' | 'skipped' | 'closed';

/** Refusals after which this visit cannot be rated any more: the panel thanks and closes. */
const FINAL = new Set(['RATING_ALREADY_GIVEN', 'RATING_TOKEN_NOT_FOUND', 'VALIDATION_FAILED', 'KIOSK_ONLY']);

function post(token: string, rating: Rating, reasons: RatingReason[]): Promise<RatingRecorded> {
  return api<RatingRecorded>('POST', '/api/ratings', { body: { token, rating, ...(reasons.length ? { reasons } : {}) } });
}

export function RatingPanel({ t, token }: { t: Texts; token: string }) {
  const [face, setFace] = useState<Rating | null>(null);
  const [reasons, setReasons] = useState<RatingReason[]>([]);
  const [phase, setPhase] = useState<Phase>('ask');
  const [error, setError] = useState<unknown>(null);
  // What the screen holds when it is left (home, "Xong", the idle time): a face chosen, not sent.
  const latest = useRef({ face, reasons, phase });
  latest.current = { face, reasons, phase };
  useEffect(
    () => () => {
      const left = latest.current;
      if (left.phase === 'ask' && left.face) void post(token, left.face, left.reasons).catch(() => undefined);
    },
    [],
  );

  const send = async (rating: Rating, chosen: RatingReason[]) => {
    setPhase('sending');
    setError(null);
    try {
      await post(token, rating, chosen);
      setPhase('sent');
    } catch (err) {
      setError(err);
      // A dropped request or a busy machine may be tried again; anything else ends the rating.
      setPhase(err instanceof ApiError && FINAL.has(err.code) ? 'closed' : 'ask');
    }
  };
  const choose = (rating: Rating) => {
    setFace(rating);
    if (!RATINGS_WITH_REASONS.includes(rating)) void send(rating, []);
  };
  const toggle = (reason: RatingReason) =>
    setReasons((now) =>
      now.includes(reason) ? now.filter((r) => r !== reason) : RATING_REASONS.filter((r) => r === reason || now.includes(r)),
    );

  if (phase === 'skipped') return null;
  if (phase === 'sent' || phase === 'closed') {
    return html`<p class="rating-done" role="status">${phase === 'sent' ? t.ratingThanks : errorText(t, error)}</p>`;
  }
  const busy = phase === 'sending';
  const asking = face !== null && RATINGS_WITH_REASONS.includes(face);
  return html`<section class="rating" aria-labelledby="rating-title">
    <div class="rating-head">
      <div>
        <h2 id="rating-title">${t.ratingTitle}</h2>
        <p class="rating-hint">${asking ? t.ratingReasonsHint : t.ratingHint}</p>
      </div>
      <button class="btn btn-secondary rating-skip" disabled=${busy} onClick=${() => setPhase('skipped')}>${t.ratingSkip}</button>
    </div>
    <div class="faces" role="group" aria-label=${t.ratingFacesLabel}>
      ${RATINGS.map(
        (r) =>
          html`<button
            class=${`face face-${r} ${face === r ? 'on' : ''}`}
            aria-pressed=${face === r}
            disabled=${busy}
            onClick=${() => choose(r)}
          >
            <${Face} rating=${r} /><span class="face-label">${t.ratingFaces[r]}</span>
          </button>`,
      )}
    </div>
    ${
      asking
        ? html`<div class="chips reasons" role="group" aria-label=${t.ratingReasonsLabel}>
            ${RATING_REASONS.map(
              (r) =>
                html`<button
                  class=${`chip ${reasons.includes(r) ? 'on' : ''}`}
                  aria-pressed=${reasons.includes(r)}
                  disabled=${busy}
                  onClick=${() => toggle(r)}
                >
                  ${t.ratingReasons[r]}
                </button>`,
            )}
          </div>`
        : null
    }
    <div aria-live="polite">${error ? html`<p class="error">${errorText(t, error)}</p>` : null}</div>
    ${
      asking
        ? html`<div class="actions">
            <button class="btn btn-primary" disabled=${busy} onClick=${() => send(face!, reasons)}>${busy ? t.busy : t.ratingSend}</button>
          </div>`
        : null
    }
  </section>`;
}
