/**
 * An HTTP SMS provider (the Vietnamese brand-name SMS resellers all take a JSON or form POST):
 * URL, method, headers, a body template and where in the reply success and the message id are.
 * Network errors, timeouts and 5xx are retried with exponential backoff; a 4xx is not (the same
 * request would fail again). Recent failures are kept for the admin view, without number or text.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import type { Clock } from '../domain/clock.js';
import { AppError } from '../domain/errors.js';
import { encodeInfo } from '../domain/sms-text.js';
import type { SmsDeliveryReport, SmsGateway, SmsMessage, SmsSendResult } from '../services/ports.js';
import { maskText } from './mask.js';

export interface SmsFailure {
  at: string;
  status: number | null;
  reason: string;
}

type HttpConfig = Config['sms']['http'];

function dig(value: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), value);
}

export function renderBody(template: string, values: Record<string, string>, contentType: HttpConfig['contentType']): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_m, key: string) => {
    const value = values[key] ?? '';
    return contentType === 'application/json' ? JSON.stringify(value).slice(1, -1) : encodeURIComponent(value);
  });
}

class Retryable extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
  }
}

export class HttpSmsGateway extends EventEmitter<{ delivery: [SmsDeliveryReport] }> implements SmsGateway {
  readonly kind = 'http' as const;
  private readonly failures: SmsFailure[] = [];
  private lastOk: Date | null = null;

  constructor(
    private readonly config: HttpConfig,
    private readonly brand: string,
    private readonly deps: { logger: Logger; clock: Clock; sleep?: (ms: number) => Promise<void> },
  ) {
    super();
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  async send(msg: SmsMessage): Promise<SmsSendResult> {
    const info = encodeInfo(msg.text);
    const values = {
      to: msg.to,
      to_local: msg.to.startsWith('+84') ? `0${msg.to.slice(3)}` : msg.to,
      text: msg.text,
      brandname: this.brand,
      id: msg.id,
    };
    const sleep = this.deps.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
    let attempt = 0;
    // Whether an attempt may have reached the provider without an answer (a timeout, a network
    // error, a 5xx): then the text may have left, whatever the last attempt says.
    let maybeSent = false;
    for (;;) {
      attempt++;
      try {
        const providerMessageId = await this.attempt(values);
        this.lastOk = this.deps.clock.now();
        return { providerMessageId, segments: info.segments, encoding: info.encoding };
      } catch (err) {
        const status = err instanceof Retryable ? err.status : (((err as AppError).details?.status as number | null) ?? null);
        this.recordFailure(status, (err as Error).message);
        if (err instanceof Retryable) maybeSent = true;
        if (!(err instanceof Retryable) || attempt > this.config.retries) {
          const refused = !maybeSent && (err as AppError).details?.refused === true;
          throw new AppError('SMS_FAILED', `the SMS provider did not take the message: ${maskText((err as Error).message)}`, {
            attempts: attempt,
            status,
            // Certainly not sent: every attempt was answered with a refusal.
            ...(refused ? { notSent: true } : {}),
          });
        }
        this.deps.logger.warn({ attempt, status, smsId: msg.id }, 'SMS provider failed; retrying');
        await sleep(this.config.backoffMs * 2 ** (attempt - 1));
      }
    }
  }

  private async attempt(values: Record<string, string>): Promise<string | null> {
    const { config } = this;
    const body = renderBody(config.bodyTemplate, values, config.contentType);
    const headers: Record<string, string> = { ...config.headers };
    if (config.auth) headers.authorization = config.auth;
    let url = config.url!;
    const init: RequestInit = { method: config.method, headers, signal: AbortSignal.timeout(config.timeoutMs) };
    if (config.method === 'GET') {
      url += (url.includes('?') ? '&' : '?') + renderBody(config.bodyTemplate, values, 'application/x-www-form-urlencoded');
    } else {
      headers['content-type'] = config.contentType;
      init.body = body;
    }
    let res: Response;
    try {
      res = await fetch(url, init);
    } catch (err) {
      // Only the error's name or code: a message may quote the URL, which a GET carries the number in.
      const e = err as Error & { cause?: { code?: unknown; message?: unknown } };
      if (e.name === 'TimeoutError' || e.name === 'AbortError') throw new Retryable(`no answer within ${config.timeoutMs} ms`, null);
      const cause = e.cause?.code ?? e.cause?.message;
      const code = typeof cause === 'string' ? maskText(cause).slice(0, 60) : e.name;
      throw new Retryable(`network error (${code})`, null);
    }
    const text = await res.text().catch(() => '');
    if (res.status >= 500) throw new Retryable(`HTTP ${res.status}`, res.status);
    if (res.status >= 400) throw new AppError('SMS_FAILED', `HTTP ${res.status}`, { status: res.status, refused: true });
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      if (config.successPath) throw new AppError('SMS_FAILED', 'the provider answered something that is not JSON', { status: res.status });
    }
    if (config.successPath) {
      const value = dig(json, config.successPath);
      if (String(value) !== String(config.successValue)) {
        // A refusal only when the provider said so; an empty or odd 2xx may still have been taken.
        const said = value !== undefined && value !== null;
        throw new AppError('SMS_FAILED', `provider code ${String(value).slice(0, 40)}`, {
          status: res.status,
          ...(said ? { refused: true } : {}),
        });
      }
    }
    const id = config.messageIdPath ? dig(json, config.messageIdPath) : null;
    return id === null || id === undefined ? null : String(id);
  }

  private recordFailure(status: number | null, reason: string): void {
    this.failures.push({ at: this.deps.clock.now().toISOString(), status, reason: maskText(reason).slice(0, 120) });
    if (this.failures.length > 50) this.failures.shift();
  }

  recentFailures(): SmsFailure[] {
    return [...this.failures];
  }

  status() {
    const last = this.failures.at(-1);
    const ok = !last || (this.lastOk !== null && this.lastOk.toISOString() > last.at);
    return { ok, detail: last ? `last failure ${last.at}: ${last.reason}` : undefined };
  }
}
