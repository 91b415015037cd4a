/** A failure in the officer's words: the API's stable code with the numbers it carries, never the code or the server's text. */
import type { ErrorCode } from '../../domain/errors.js';
import { ApiError } from '../shared/api.js';
import type { ErrorParams } from './error-words.js';
import type { Texts } from './texts.js';

/** A dossier status in words, inside a sentence: "(đang đưa vào, chờ đóng cửa)". */
export function statusInSentence(t: Texts, status: string): string | null {
  const words = (t.status as Record<string, string>)[status];
  return words ? words.charAt(0).toLowerCase() + words.slice(1) : null;
}

/** An error as the batch answer carries it, per item. */
export interface ItemError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export function errorText(t: Texts, err: unknown): string {
  const e = t.errors;
  if (!(err instanceof ApiError)) return e.other;
  if (err.code === 'NETWORK') return e.network;
  if (err.status === 404 && err.code === 'NOT_FOUND' && /^no route/.test(err.message)) return e.noRoute;
  const words = e.codes[err.code as ErrorCode];
  if (words === undefined) return e.other;
  if (typeof words === 'string') return words;
  const d = err.details;
  const field = typeof d.field === 'string' ? d.field : fieldOf(err.message);
  const params: ErrorParams = {
    wait: e.wait(typeof d.retryAfterSec === 'number' ? d.retryAfterSec : 60),
    tray: typeof d.tray === 'number' ? d.tray : null,
    status: typeof d.status === 'string' ? statusInSentence(t, d.status) : null,
    size: typeof d.size === 'string' ? d.size : null,
    field: field ? (e.fields[field] ?? null) : null,
  };
  return words(params);
}

/** A batch item's refusal in words. */
export function itemErrorText(t: Texts, error: ItemError): string {
  return errorText(t, new ApiError(400, error.code, error.message, error.details ?? {}));
}

/** The field a validation refusal names (`body.phone must …`), when it is one an officer types. */
function fieldOf(message: string): string | null {
  return /^body\.(\w+)/.exec(message)?.[1] ?? null;
}

const FIELD_OF_CODE: Record<string, string> = {
  PHONE_INVALID: 'phone',
  PHONE_NOT_VIETNAMESE_MOBILE: 'phone',
  DOSSIER_CODE_INVALID: 'dossierCode',
  RESULT_ALREADY_LOADED: 'dossierCode',
  PROCEDURE_NOT_FOUND: 'procedureCode',
  PROCEDURE_NOT_ACCEPTED: 'procedureCode',
  HOLDER_ID_REQUIRED: 'holderIdNumber',
  ID_NUMBER_INVALID: 'holderIdNumber',
  HOLDER_ID_NOT_EXPECTED: 'procedureCode',
};

/** The field a batch item was refused for (`dossierCode`, `phone`, `procedureCode`), to mark it; null when the item as a whole was. */
export function refusedField(error: ItemError): string | null {
  if (typeof error.details?.field === 'string') return error.details.field;
  return FIELD_OF_CODE[error.code] ?? null;
}
