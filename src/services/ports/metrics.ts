/**
 * Ports: figures the use cases report as they work, for the metrics (`GET /metrics`,
 * docs/metrics.md). src/metrics implements them. Every call is synchronous and cheap, and an
 * observer never throws into the use case that calls it.
 */
import type { ChallengePurpose } from './citizens.js';

/** What an SMS was: a one-time code (the citizen waits for it) or a notice (a receipt, a reminder). */
export type SmsMessageClass = 'code' | 'notice';

/** How the gateway answered one message: it took it (`sent`), or it refused or lost it (`failed`). */
export type SmsOutcome = 'sent' | 'failed';

export interface SmsObserver {
  sms(outcome: SmsOutcome, message: SmsMessageClass): void;
}

/**
 * What happened to a one-time code: `issued` (a new code stored and handed to the SMS service,
 * first or resent), `failed` (a wrong code entered: a try spent), `exhausted` (the code ran out of
 * tries and can no longer be used; once per code).
 */
export type CodeEvent = 'issued' | 'failed' | 'exhausted';

export interface CodeObserver {
  code(event: CodeEvent, purpose: ChallengePurpose): void;
}
