import { TrayView } from '../domain/api.js';
/** JSON schemas shared by routes. */
export const trayNumberParams = {
  type: 'object',
  additionalProperties: false,
  required: ['n'],
  properties: { n: { type: 'string', pattern: '^[0-9]{1,3}$' } },
} as const;

/** A tray as the API shows it (src/domain/api.ts). */
export const trayViewSchema = TrayView;

export const emptyBody = { type: 'object', additionalProperties: false, properties: {} } as const;

/**
 * Text a client types (a reason, a phone number as entered, a code to look up): refused unless
 * every character is printable. Control characters (C0 with tab and newline, DEL, C1, U+0000), the
 * line and paragraph separators, the bidirectional embeddings, overrides and isolates, and a half
 * of a surrogate pair never reach a service, the database, the audit log or a screen. Ajv compiles
 * patterns with the `u` flag: `\p{Cs}` matches a lone surrogate, and a pair counts as one character.
 */
export const FREE_TEXT_PATTERN = '^[^\\p{Cc}\\p{Cs}\\u2028\\u2029\\u202A-\\u202E\\u2066-\\u2069]*$';
/** What FREE_TEXT_PATTERN refuses, in the words of the 400 answer. */
export const FREE_TEXT_REFUSED = 'no control characters, line breaks, direction overrides or unpaired surrogates';

/** A free-text field of `minLength` (default 1) to `maxLength` characters (see FREE_TEXT_PATTERN). */
export function freeText(maxLength: number, minLength = 1) {
  return { type: 'string', minLength, maxLength, pattern: FREE_TEXT_PATTERN } as const;
}
