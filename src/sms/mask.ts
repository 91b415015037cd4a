/** What of a text message may reach a log line. */

/** The number masked by the domain's one rule (`maskPhone`: the length does not show either). */
export { maskPhone as maskNumber } from '../domain/phone.js';

/**
 * A text as it may appear in a log line: every run of 4 or more digits (codes, numbers) becomes
 * `******`. Dossier codes (`K7M3-9P2X4`) and times (`21:45`) stay readable.
 */
export function maskText(text: string): string {
  return text.replace(/\d{4,}/g, '******');
}
