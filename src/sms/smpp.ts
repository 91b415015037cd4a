/**
 * SMPP 3.4 to the operator's SMSC: bind as transceiver, submit_sm from the registered brand name
 * (source TON 5, alphanumeric), GSM-7 (data_coding 0) or UCS-2 (8) by text, long texts split into
 * parts with a concatenation header (UDH 05 00 03 ref total seq), delivery receipts from deliver_sm.
 * The link is kept alive with enquire_link (no answer in time: the link is dropped) and rebound with
 * backoff when it drops; a send while unbound waits for the bind up to the submit timeout.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import smpp from 'smpp';
import type { Config } from '../config/types.js';
import type { Clock } from '../domain/clock.js';
import { AppError } from '../domain/errors.js';
import { splitSegments } from '../domain/sms-text.js';
import type { SmsDeliveryReport, SmsGateway, SmsMessage, SmsSendResult } from '../services/ports.js';

type SmppConfig = Config['sms']['smpp'];

const DATA_CODING = { 'GSM-7': 0x00, 'UCS-2': 0x08 } as const;
const ESM_UDHI = 0x40;
/** esm_class message type bits (2–5): 0x04 MC delivery receipt, 0x20 intermediate notification. */
const ESM_TYPE_MASK = 0x3c;
const MAX_BACKOFF_MS = 60_000;
/** Multi-part messages remembered for their receipts. */
const TRACKED_MESSAGES = 2_000;

const RECEIPT_STATUS: Record<string, SmsDeliveryReport['status']> = {
  DELIVRD: 'delivered',
  UNDELIV: 'failed',
  EXPIRED: 'expired',
  REJECTD: 'rejected',
  DELETED: 'failed',
  UNKNOWN: 'unknown',
};
/** message_state TLV values (SMPP 3.4 §5.3.2.35). */
const MESSAGE_STATE: Record<number, SmsDeliveryReport['status']> = {
  2: 'delivered',
  3: 'expired',
  4: 'failed',
  5: 'failed',
  6: 'unknown',
  7: 'unknown',
  8: 'rejected',
};

/** A delivery receipt's id and final state, from the TLVs or the receipt text (`id:… stat:DELIVRD`). */
export function parseReceipt(pdu: smpp.PDU): { id: string; status: SmsDeliveryReport['status'] } | null {
  const raw = pdu.short_message;
  const text = Buffer.isBuffer(raw)
    ? raw.toString('latin1')
    : typeof raw === 'object' && raw
      ? String(raw.message ?? '')
      : String(raw ?? '');
  const id = pdu.receipted_message_id ? String(pdu.receipted_message_id) : /\bid:(\S+)/i.exec(text)?.[1];
  if (!id) return null;
  const stat = /\bstat:(\w+)/i.exec(text)?.[1]?.toUpperCase();
  const status = stat ? RECEIPT_STATUS[stat] : typeof pdu.message_state === 'number' ? MESSAGE_STATE[pdu.message_state] : undefined;
  return { id, status: status ?? 'unknown' };
}

interface Tracked {
  primary: string;
  waiting: Set<string>;
  done: boolean;
}

export class SmppSmsGateway extends EventEmitter<{ delivery: [SmsDeliveryReport] }> implements SmsGateway {
  readonly kind = 'smpp' as const;
  private session: smpp.Session | null = null;
  private bound = false;
  private stopped = true;
  private reconnectDelay: number;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private enquireTimer: NodeJS.Timeout | null = null;
  private lastError: string | null = null;
  private reference = Math.floor(Math.random() * 256);
  /** Requests awaiting an answer on the current link; all rejected when it drops. */
  private readonly pending = new Set<(err: Error) => void>();
  /** part message id → the message it belongs to (multi-part texts), for delivery receipts. */
  private readonly parts = new Map<string, Tracked>();
  private readonly log: Logger;
  /** Signals a successful bind to sends waiting for one. */
  private readonly binds = new EventEmitter<{ bound: [] }>();

  constructor(
    private readonly config: SmppConfig,
    private readonly brand: string,
    private readonly deps: { logger: Logger; clock: Clock },
  ) {
    super();
    this.reconnectDelay = config.reconnectMs;
    this.log = deps.logger;
  }

  /** Connects and binds in the background; sends wait for the bind (up to the submit timeout). */
  async start(): Promise<void> {
    this.stopped = false;
    this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.stopKeepalive();
    const session = this.session;
    const wasBound = this.bound;
    this.session = null;
    this.bound = false;
    this.failPending(new AppError('SMS_FAILED', 'SMPP gateway stopped'));
    if (!session) return;
    await new Promise<void>((resolve) => {
      const done = setTimeout(() => session.destroy(resolve), 1_000);
      const close = () =>
        session.close(() => {
          clearTimeout(done);
          resolve();
        });
      if (!wasBound || !session.unbind({}, close)) close();
    });
  }

  get isBound(): boolean {
    return this.bound;
  }

  private connect(): void {
    if (this.stopped) return;
    const { host, port, systemId, password, systemType } = this.config;
    const session = smpp.connect({ host, port });
    this.session = session;
    session.on('connect', () => {
      this.request(session, 'bind_transceiver', { system_id: systemId, password: password ?? '', system_type: systemType })
        .then((pdu) => {
          if (pdu.command_status === 0) {
            this.bound = true;
            this.lastError = null;
            this.reconnectDelay = this.config.reconnectMs;
            this.startKeepalive(session);
            this.binds.emit('bound');
            this.log.info({ smsc: `${host}:${port}` }, 'SMPP bound');
          } else {
            this.lastError = `bind refused (${statusName(pdu.command_status)})`;
            this.log.error({ status: pdu.command_status }, 'SMPP bind refused');
            session.close();
          }
        })
        .catch((err: Error) => {
          this.lastError = `bind: ${err.message}`;
          session.destroy();
        });
    });
    session.on('deliver_sm', (pdu: smpp.PDU) => {
      session.send(pdu.response());
      this.onDeliver(pdu);
    });
    session.on('enquire_link', (pdu: smpp.PDU) => session.send(pdu.response()));
    session.on('unbind', (pdu: smpp.PDU) => {
      session.send(pdu.response());
      session.close();
    });
    session.on('error', (err: Error & { code?: string }) => {
      this.lastError = err.code ?? err.message;
      this.log.warn({ err: err.code ?? err.message }, 'SMPP link error');
    });
    session.on('close', () => {
      if (this.session !== session) return;
      const wasBound = this.bound;
      this.bound = false;
      this.session = null;
      this.stopKeepalive();
      this.failPending(new AppError('SMS_FAILED', 'SMPP link lost before the SMSC answered'));
      if (this.stopped) return;
      if (wasBound) this.log.warn({ retryInMs: this.reconnectDelay }, 'SMPP link dropped; rebinding');
      this.reconnectTimer = setTimeout(() => this.connect(), this.reconnectDelay);
      this.reconnectDelay = Math.min(this.reconnectDelay * 2, MAX_BACKOFF_MS);
    });
  }

  /** enquire_link on the bound link; an unanswered one means the link is dead: drop it, rebind. */
  private startKeepalive(session: smpp.Session): void {
    this.stopKeepalive();
    this.enquireTimer = setInterval(() => {
      this.request(session, 'enquire_link', {}).catch(() => {
        this.log.warn('SMPP enquire_link unanswered; dropping the link');
        session.destroy();
      });
    }, this.config.enquireLinkMs);
  }

  private stopKeepalive(): void {
    if (this.enquireTimer) clearInterval(this.enquireTimer);
    this.enquireTimer = null;
  }

  /** Sends one request and waits for its response, up to the submit timeout. */
  private request(session: smpp.Session, command: string, fields: Record<string, unknown>): Promise<smpp.PDU> {
    const timeoutMs = this.config.submitTimeoutMs;
    return new Promise((resolve, reject) => {
      const settle = (fn: () => void) => {
        clearTimeout(timer);
        this.pending.delete(fail);
        fn();
      };
      const fail = (err: Error) => settle(() => reject(err));
      const timer = setTimeout(
        () => fail(new AppError('SMS_FAILED', `no ${command}_resp from the SMSC within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.pending.add(fail);
      const sent = session.send(new smpp.PDU(command, fields), (pdu: smpp.PDU) => settle(() => resolve(pdu)));
      if (!sent) fail(new AppError('SMS_FAILED', 'SMPP link is not writable'));
    });
  }

  private failPending(err: Error): void {
    for (const fail of [...this.pending]) fail(err);
  }

  private onDeliver(pdu: smpp.PDU): void {
    const type = (pdu.esm_class ?? 0) & ESM_TYPE_MASK;
    if (type !== 0x04 && type !== 0x20) return; // a text from a phone: a brand name takes none
    const receipt = parseReceipt(pdu);
    if (!receipt) {
      this.log.warn('SMPP delivery receipt without a message id');
      return;
    }
    let id = receipt.id;
    const tracked = this.parts.get(id);
    if (tracked) {
      // A multi-part text: delivered once every part is; any other final state is reported at once.
      if (tracked.done) return;
      tracked.waiting.delete(id);
      if (receipt.status === 'delivered' && tracked.waiting.size > 0) return;
      tracked.done = true;
      id = tracked.primary;
    }
    this.emit('delivery', { providerMessageId: id, status: receipt.status, at: this.deps.clock.now() });
  }

  private track(ids: string[]): void {
    const entry: Tracked = { primary: ids[0], waiting: new Set(ids), done: false };
    for (const id of ids) this.parts.set(id, entry);
    while (this.parts.size > TRACKED_MESSAGES) this.parts.delete(this.parts.keys().next().value as string);
  }

  private waitBound(timeoutMs: number): Promise<void> {
    if (this.bound) return Promise.resolve();
    if (this.stopped) return Promise.reject(new AppError('SMS_FAILED', 'SMPP gateway not started', { notSent: true }));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.binds.off('bound', onBound);
        reject(new AppError('SMS_FAILED', `SMSC not bound (${this.lastError ?? 'connecting'})`, { notSent: true }));
      }, timeoutMs);
      const onBound = () => {
        clearTimeout(timer);
        resolve();
      };
      this.binds.once('bound', onBound);
    });
  }

  async send(msg: SmsMessage): Promise<SmsSendResult> {
    await this.waitBound(this.config.submitTimeoutMs);
    const { encoding, parts } = splitSegments(msg.text);
    const ref = (this.reference = (this.reference + 1) % 256);
    const ids: string[] = [];
    for (let i = 0; i < parts.length; i++) {
      const udh = parts.length > 1 ? Buffer.from([0x05, 0x00, 0x03, ref, parts.length, i + 1]) : null;
      const session = this.session;
      if (!session || !this.bound) throw new AppError('SMS_FAILED', 'SMPP link lost while sending a long text', { notSent: i === 0 });
      const pdu = await this.request(session, 'submit_sm', {
        source_addr_ton: 5,
        source_addr_npi: 0,
        source_addr: this.brand,
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: msg.to.replace(/^\+/, ''),
        esm_class: udh ? ESM_UDHI : 0,
        data_coding: DATA_CODING[encoding],
        registered_delivery: 1,
        short_message: udh ? { udh, message: parts[i] } : { message: parts[i] },
      });
      if (pdu.command_status !== 0) {
        throw new AppError('SMS_FAILED', `the SMSC refused the message (${statusName(pdu.command_status)})`, {
          commandStatus: pdu.command_status,
          part: i + 1,
          parts: parts.length,
          // Refused at the first part: nothing of it left.
          notSent: i === 0,
        });
      }
      if (pdu.message_id) ids.push(String(pdu.message_id));
    }
    if (ids.length > 1) this.track(ids);
    return { providerMessageId: ids[0] ?? null, segments: parts.length, encoding };
  }

  status() {
    return { ok: this.bound, detail: this.bound ? undefined : (this.lastError ?? 'not bound') };
  }
}

function statusName(status: number): string {
  const name = Object.entries(smpp.errors as Record<string, number>).find(([, v]) => v === status)?.[0];
  return `command_status 0x${status.toString(16).padStart(8, '0')}${name ? ` ${name}` : ''}`;
}
