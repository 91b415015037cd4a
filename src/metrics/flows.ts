/**
 * The citizens' side: texts the gateway took or failed (the `SmsObserver` port) and one-time
 * codes issued, entered wrong and run out of tries (the `CodeObserver` port). Every label value is
 * shown at zero from the start, so that a rate is defined before the first event.
 */
import { Counter, type Registry } from 'prom-client';
import type { ChallengePurpose, CodeEvent, CodeObserver, SmsMessageClass, SmsObserver, SmsOutcome } from '../services/ports.js';

const PURPOSES: readonly ChallengePurpose[] = ['deposit', 'pickup'];
const MESSAGE_CLASSES: readonly SmsMessageClass[] = ['code', 'notice'];

export class SmsMetrics implements SmsObserver {
  private readonly counters: Record<SmsOutcome, Counter<'gateway' | 'message'>>;

  /** `gateway`: the configured gateway (console, http, smpp), the label of every count. */
  constructor(
    registry: Registry,
    private readonly gateway: string,
  ) {
    const registers = [registry];
    const labelNames = ['gateway', 'message'] as const;
    this.counters = {
      sent: new Counter({
        name: 'atm247_sms_sent_total',
        help: 'Text messages the SMS gateway took, by gateway and message (code or notice).',
        labelNames,
        registers,
      }),
      failed: new Counter({
        name: 'atm247_sms_failed_total',
        help: 'Text messages the SMS gateway refused or lost (an error or no answer), by gateway and message.',
        labelNames,
        registers,
      }),
    };
    for (const counter of Object.values(this.counters)) {
      for (const message of MESSAGE_CLASSES) counter.inc({ gateway, message }, 0);
    }
  }

  sms(outcome: SmsOutcome, message: SmsMessageClass): void {
    this.counters[outcome].inc({ gateway: this.gateway, message });
  }
}

export class CodeMetrics implements CodeObserver {
  private readonly counters: Record<CodeEvent, Counter<'purpose'>>;

  constructor(registry: Registry) {
    const registers = [registry];
    const labelNames = ['purpose'] as const;
    this.counters = {
      issued: new Counter({
        name: 'atm247_otp_issued_total',
        help: 'One-time codes issued (first codes and resends), by purpose (deposit, pickup).',
        labelNames,
        registers,
      }),
      failed: new Counter({
        name: 'atm247_otp_failed_total',
        help: 'Wrong one-time codes entered (each a try spent), by purpose.',
        labelNames,
        registers,
      }),
      exhausted: new Counter({
        name: 'atm247_otp_exhausted_total',
        help: 'One-time codes that ran out of tries and can no longer be used, by purpose (no phone is ever locked out).',
        labelNames,
        registers,
      }),
    };
    for (const counter of Object.values(this.counters)) {
      for (const purpose of PURPOSES) counter.inc({ purpose }, 0);
    }
  }

  code(event: CodeEvent, purpose: ChallengePurpose): void {
    this.counters[event].inc({ purpose });
  }
}
