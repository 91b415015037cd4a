/**
 * The SMS gateway port and the factory that picks an adapter from configuration:
 * console (development: an inbox the simulator shows), an HTTP provider, or SMPP to the operator.
 */
import type { Logger } from 'pino';
import { ConfigError } from '../config/load.js';
import type { Config } from '../config/types.js';
import type { Clock } from '../domain/clock.js';
import type { SmsGateway } from '../services/ports.js';
import { ConsoleSmsGateway } from './console.js';
import { HttpSmsGateway } from './http.js';
import { SmppSmsGateway } from './smpp.js';

export type { InboxEntry } from './console.js';
export type { SmsFailure } from './http.js';
export { ConsoleSmsGateway, HttpSmsGateway, SmppSmsGateway };
export { maskNumber, maskText } from './mask.js';

export type { SmsDeliveryReport, SmsGateway, SmsMessage, SmsSendResult } from '../services/ports.js';

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
