/** Ports: SMS: the gateway as the use cases see it, and the log of what was sent. */
import type { EventEmitter } from 'node:events';
import type { Queryable } from './persistence.js';

export interface SmsMessage {
  id: string;
  /** E.164, e.g. +84912345678 */
  to: string;
  text: string;
  /** 'otp', 'deposit_receipt', … */
  kind: string;
}

export interface SmsSendResult {
  providerMessageId: string | null;
  segments: number;
  encoding: 'GSM-7' | 'UCS-2';
}

export interface SmsDeliveryReport {
  providerMessageId: string;
  status: 'delivered' | 'failed' | 'expired' | 'rejected' | 'unknown';
  at: Date;
}

/** The SMS gateway port; its adapters (console, HTTP provider, SMPP) are in src/sms. */
export interface SmsGateway extends EventEmitter<{ delivery: [SmsDeliveryReport] }> {
  readonly kind: 'console' | 'http' | 'smpp';
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Resolves once the provider took the message; throws AppError SMS_FAILED otherwise, with
   * `details.notSent: true` only when the message certainly did not leave (refused, never
   * submitted); a timeout or a lost link leaves it unknown.
   */
  send(msg: SmsMessage): Promise<SmsSendResult>;
  status(): { ok: boolean; detail?: string };
}

export interface SmsLogEntry {
  id: string;
  kind: string;
  phoneHash: string;
  dossierId: string | null;
  at: Date;
}

export interface SmsLog {
  started(q: Queryable, e: SmsLogEntry): Promise<void>;
  sent(q: Queryable, id: string, r: { providerMessageId: string | null; segments: number; attempts: number }, at: Date): Promise<void>;
  failed(q: Queryable, id: string, error: string, attempts: number): Promise<void>;
  delivered(q: Queryable, providerMessageId: string, ok: boolean, at: Date): Promise<void>;
  recent(q: Queryable, limit: number): Promise<Record<string, unknown>[]>;
}
