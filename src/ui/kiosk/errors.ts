/** The API's stable error codes in plain words, with the numbers the citizen needs. */
import { ApiError } from '../shared/api.js';
import type { Texts } from './texts.js';

function wait(t: Texts, sec: number): string {
  return sec >= 60 ? t.minutes(Math.ceil(sec / 60)) : t.seconds(Math.max(1, Math.ceil(sec)));
}

export function errorText(t: Texts, err: unknown): string {
  if (!(err instanceof ApiError)) return t.errors.DEFAULT;
  const d = err.details;
  const retry = typeof d.retryAfterSec === 'number' ? d.retryAfterSec : 60;
  switch (err.code) {
    case 'OTP_INVALID':
      return t.otpInvalid(typeof d.attemptsLeft === 'number' ? d.attemptsLeft : undefined);
    case 'ID_NUMBER_MISMATCH':
      return t.idNumberMismatch(typeof d.attemptsLeft === 'number' ? d.attemptsLeft : undefined, typeof d.held === 'number' && d.held > 0);
    case 'RATE_LIMITED':
      return t.tooManyCodes(wait(t, retry));
    case 'RESEND_TOO_SOON':
      return t.resendTooSoon(wait(t, retry));
    case 'TOO_MANY_REQUESTS':
      return t.tooManyRequests(wait(t, retry));
    default:
      return t.errors[err.code] ?? t.errors.DEFAULT;
  }
}
