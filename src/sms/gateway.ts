/**
 * The SMS gateway port and the factory that picks an adapter from configuration:
 * console (development: an inbox the simulator shows), an HTTP provider, or SMPP to the operator.
 */
import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { ConfigError } from '../config/load.js';
import type { Config } from '../config/types.js';
import type { Clock } from '../domain/clock.js';
import { ConsoleSmsGateway } from './console.js';
import { HttpSmsGateway } from './http.js';
import { SmppSmsGateway } from './smpp.js';

export type { InboxEntry } from './console.js';
export type { SmsFailure } from './http.js';
export { ConsoleSmsGateway, HttpSmsGateway, SmppSmsGateway };
export { maskNumber, maskText } from './mask.js';

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

export interface SmsGateway extends EventEmitter<{ delivery: [SmsDeliveryReport] }> {
  readonly kind: 'console' | 'http' | 'smpp';
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves once the provider took the message; throws AppError SMS_FAILED otherwise. */
  send(msg: SmsMessage): Promise<SmsSendResult>;
  status(): { ok: boolean; detail?: string };
}

export function createSmsGateway(config: Config['sms'], deps: { logger: Logger; clock: Clock }): SmsGateway {
  switch (config.gateway) {
    case 'console':
      return new ConsoleSmsGateway(deps);
    case 'http':
      if (!config.http.url) throw new ConfigError('sms.http.url', 'is required with the http gateway (SMS_HTTP_URL)');
      return new HttpSmsGateway(config.http, config.brand, deps);
    case 'smpp':
      if (!config.smpp.host) throw new ConfigError('sms.smpp.host', 'is required with the smpp gateway (SMPP_HOST)');
      if (!config.smpp.systemId) throw new ConfigError('sms.smpp.systemId', 'is required with the smpp gateway (SMPP_SYSTEM_ID)');
      return new SmppSmsGateway(config.smpp, config.brand, deps);
  }
}
