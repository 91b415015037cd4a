/**
 * Dossier codes: what a citizen reads off the screen or an SMS and types back at the kiosk, or
 * reads to an officer on the phone. Eight characters from an alphabet without look-alikes
 * (no 0/O, 1/I/L, U/V, Z/2) plus a check character (Luhn mod N), shown in two groups: `K7M3-9P2X4`.
 * A mistyped character is always caught by the check character, and two swapped neighbours are
 * too, except 2 and Y (the first and last of the alphabet: the one blind spot of Luhn mod N).
 */

import { AppError } from './errors.js';

// An even count, as Luhn mod N needs for the doubling to be one-to-one (Z goes: it reads as 2).
export const DOSSIER_ALPHABET = '23456789ABCDEFGHJKMNPQRSTWXY';
const N = DOSSIER_ALPHABET.length;
const BODY_LENGTH = 8;

function checkCharacter(body: string): string {
  // Luhn mod N over the alphabet, computed from the right.
  let factor = 2;
  let sum = 0;
  for (let i = body.length - 1; i >= 0; i--) {
    let addend = factor * DOSSIER_ALPHABET.indexOf(body[i]);
    factor = factor === 2 ? 1 : 2;
    addend = Math.floor(addend / N) + (addend % N);
    sum += addend;
  }
  return DOSSIER_ALPHABET[(N - (sum % N)) % N];
}

/** A uniform integer in [0, n) from Web Crypto (in Node as in the kiosk's browser). */
function cryptoInt(n: number): number {
  const limit = Math.floor(0x1_0000_0000 / n) * n;
  const word = new Uint32Array(1);
  do globalThis.crypto.getRandomValues(word);
  while (word[0] >= limit);
  return word[0] % n;
}

/** A new code; `random(n)` returns an integer in [0, n) and defaults to Web Crypto. */
export function newDossierCode(random: (n: number) => number = cryptoInt): string {
  let body = '';
  for (let i = 0; i < BODY_LENGTH; i++) body += DOSSIER_ALPHABET[random(N)];
  return body + checkCharacter(body);
}

/** Upper-cases and drops spaces and dashes; returns null if it is not a well-formed code. */
export function normalizeDossierCode(input: string): string | null {
  const code = input.toUpperCase().replace(/[\s-]/g, '');
  if (code.length !== BODY_LENGTH + 1) return null;
  for (const c of code) if (!DOSSIER_ALPHABET.includes(c)) return null;
  return checkCharacter(code.slice(0, BODY_LENGTH)) === code[BODY_LENGTH] ? code : null;
}

export function formatDossierCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

// ---------------------------------------------------------------------------------------------
// The city's online system's dossier numbers, accepted beside our own codes for results.

/** The online system's dossier numbers: letters, digits (at least four), dots and dashes, e.g. 000.00.22.H29-250123-0001. */
export const ONLINE_DOSSIER_NUMBER = /^(?=(?:[^0-9]*[0-9]){4})[A-Za-z0-9][A-Za-z0-9.-]{5,39}$/;
/** Something shaped like our code (4 + 5 characters) whose check failed is a typo, not an online number. */
const OWN_SHAPE = /^[A-Za-z0-9]{4}-?[A-Za-z0-9]{5}$/;

/**
 * What a lookup may search for: our code (check character right) or an online-system number
 * (trimmed, upper-cased); else null. Something shaped like our code whose check failed is a typo.
 */
export function lookupCode(input: string): string | null {
  const trimmed = input.trim();
  return normalizeDossierCode(input) ?? (ONLINE_DOSSIER_NUMBER.test(trimmed) && !OWN_SHAPE.test(trimmed) ? trimmed.toUpperCase() : null);
}

/**
 * A code as stored: ours normalised (`K7M39P2X4`), an online-system number trimmed and
 * upper-cased. Anything a lookup would refuse is refused here too (DOSSIER_CODE_INVALID): a result
 * stored under it could never be looked up by the number the citizen was texted.
 */
export function canonicalCode(input: string): string {
  const code = lookupCode(input);
  if (code === null) {
    throw new AppError(
      'DOSSIER_CODE_INVALID',
      "not a dossier code: our codes have 9 characters with a check character (K7M3-9P2X4); the online system's numbers " +
        'have letters, digits (at least four), dots and dashes (000.00.22.H29-251120-0042)',
    );
  }
  return code;
}

/**
 * A code as read by people: ours grouped (`K7M3-9P2X4`), an online-system number exactly as stored.
 * `lookupCode(displayCode(c)) === c` for every stored code `c`.
 */
export function displayCode(code: string): string {
  const own = normalizeDossierCode(code);
  return own ? formatDossierCode(own) : code;
}

/** True for a stored code that is an online-system number, not one of ours: what staff see marked "trực tuyến". */
export function isOnlineNumber(code: string): boolean {
  return normalizeDossierCode(code) === null && lookupCode(code) !== null;
}

/**
 * The number a dossier filed online is deposited under (ADR 0029): an online-system number as
 * `canonicalCode` stores it, so that the receipt, the SMS, the lookup and the officer all show the
 * number the online system gave. One of our own codes is refused (ONLINE_NUMBER_EXPECTED): it names
 * a dossier this machine received, not one filed online.
 */
export function onlineNumber(input: string): string {
  if (normalizeDossierCode(input) !== null) {
    throw new AppError(
      'ONLINE_NUMBER_EXPECTED',
      "this is a code of this machine (K7M3-9P2X4); a dossier filed online is deposited with the online system's number (000.00.22.H29-251120-0042)",
    );
  }
  return canonicalCode(input);
}
