/**
 * Development gateway: nothing leaves the machine. Each text is kept in an inbox (the simulator's
 * `GET /api/sim/sms` shows it, code included, so anyone can try the product) and logged with the
 * number masked and every code hidden.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { encodeInfo } from '../domain/sms-text.js';
import type { SmsDeliveryReport, SmsGateway, SmsMessage, SmsSendResult } from '../services/ports.js';
import { maskNumber, maskText } from './mask.js';

export interface InboxEntry extends SmsMessage {
  at: Date;
  segments: number;
  encoding: 'GSM-7' | 'UCS-2';
}

const INBOX_SIZE = 200;

export class ConsoleSmsGateway extends EventEmitter<{ delivery: [SmsDeliveryReport] }> implements SmsGateway {
  readonly kind = 'console' as const;
  private readonly messages: InboxEntry[] = [];

  constructor(private readonly deps: { logger: Logger; clock: Clock }) {
    super();
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  async send(msg: SmsMessage): Promise<SmsSendResult> {
    const info = encodeInfo(msg.text);
    this.messages.push({ ...msg, at: this.deps.clock.now(), segments: info.segments, encoding: info.encoding });
    if (this.messages.length > INBOX_SIZE) this.messages.splice(0, this.messages.length - INBOX_SIZE);
    this.deps.logger.info(
      { to: maskNumber(msg.to), kind: msg.kind, segments: info.segments, encoding: info.encoding, text: maskText(msg.text) },
      'SMS (console gateway)',
    );
    return { providerMessageId: `console-${msg.id}`, segments: info.segments, encoding: info.encoding };
  }

  /** Oldest first. */
  inbox(): InboxEntry[] {
    return [...this.messages];
  }

  status() {
    return { ok: true, detail: 'console: texts are not sent, only listed' };
  }
}
