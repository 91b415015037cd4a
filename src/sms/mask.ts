/** What of a text message may reach a log line. */

/**
 * A number as it may appear in a log line: `+84912345678` → `+84*****678` (country code and the
 * last three digits; a fixed run of stars, so not even the length shows).
 */
export function maskNumber(e164: string): string {
  return e164.length < 8 ? '*****' : `${e164.slice(0, 3)}*****${e164.slice(-3)}`;
}

/**
 * A text as it may appear in a log line: every run of 4 or more digits (codes, numbers) becomes
 * `******`. Dossier codes (`K7M3-9P2X4`) and times (`21:45`) stay readable.
 */
export function maskText(text: string): string {
  return text.replace(/\d{4,}/g, '******');
}
