/**
 * The campaign's HTTP client to the daemon, as the kiosk and the staff screen would use it: every
 * answer is classified (ok; refused because the daemon is down; lost — a reset or a timeout, the
 * request may or may not have been done; an HTTP error with its stable code), and counted. A 5xx
 * other than 503, and a 503 without a stable error code, are collected for the report.
 */
import type { DaemonSupervisor } from './supervisor.js';

export type ApiResult<T = any> =
  | { ok: true; status: number; body: T }
  | { ok: false; kind: 'down' | 'lost' | 'http'; status: number | null; code: string; message: string };

export interface CallOptions {
  auth?: 'staff' | 'admin';
  timeoutMs?: number;
}

export interface Odd5xx {
  atS: number;
  method: string;
  path: string;
  status: number;
  body: string;
  /** The dossier code the request was about, if any (never a phone number or a code). */
  dossierCode?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Api {
  /** `<status> <code>` → count, for every answer that is not a 2xx. */
  readonly errors: Record<string, number> = {};
  readonly unexpected5xx: Odd5xx[] = [];
  readonly bare503: Odd5xx[] = [];
  requests = 0;

  constructor(
    private readonly daemon: DaemonSupervisor,
    private readonly tokens: { staff: string; admin: string },
    private readonly seconds: () => number,
  ) {}

  async call<T = any>(method: 'GET' | 'POST', path: string, body?: unknown, opts: CallOptions = {}): Promise<ApiResult<T>> {
    const base = this.daemon.baseUrl;
    if (!base) return this.count({ ok: false, kind: 'down', status: null, code: 'DAEMON_DOWN', message: 'the daemon is not running' });
    this.requests += 1;
    const headers: Record<string, string> = {};
    if (opts.auth) headers.authorization = `Bearer ${this.tokens[opts.auth]}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      if (e.cause?.code === 'ECONNREFUSED') {
        return this.count({ ok: false, kind: 'down', status: null, code: 'ECONNREFUSED', message: 'connection refused' });
      }
      const code = e.name === 'TimeoutError' ? 'TIMEOUT' : (e.cause?.code ?? e.name);
      return this.count({ ok: false, kind: 'lost', status: null, code, message: e.message });
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      return this.count({ ok: false, kind: 'lost', status: res.status, code: 'BODY_LOST', message: (err as Error).message });
    }
    let json: any;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (res.status < 300) return { ok: true, status: res.status, body: json as T };
    const code = typeof json?.error?.code === 'string' ? json.error.code : '';
    const dossierCode =
      typeof (body as { dossierCode?: unknown })?.dossierCode === 'string' ? (body as { dossierCode: string }).dossierCode : undefined;
    const odd: Odd5xx = { atS: this.seconds(), method, path, status: res.status, body: text.slice(0, 300), dossierCode };
    if (res.status >= 500 && res.status !== 503) this.unexpected5xx.push(odd);
    if (res.status === 503 && !code) this.bare503.push(odd);
    return this.count({
      ok: false,
      kind: 'http',
      status: res.status,
      code: code || 'NO_CODE',
      message: json?.error?.message ?? text.slice(0, 200),
    });
  }

  private count<T>(r: ApiResult<T>): ApiResult<T> {
    if (!r.ok) {
      const key = `${r.status ?? '---'} ${r.code}`;
      this.errors[key] = (this.errors[key] ?? 0) + 1;
    }
    return r;
  }

  /**
   * Calls until an answer that is not a fault's (down, lost, 503) nor a "code still on its way"
   * (OTP_SENDING: the text came before the provider's answer did), or until `deadlineMs` has
   * passed: what a citizen at the kiosk does when it says "try again in a moment". `retryLost`:
   * retry after an answer was lost too (only where doing it twice is harmless or detected).
   */
  async retry<T = any>(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    opts: CallOptions & { deadlineMs?: number; retryLost?: boolean; stop?: () => boolean; beforeEach?: () => void } = {},
  ): Promise<ApiResult<T>> {
    const deadline = Date.now() + (opts.deadlineMs ?? 20_000);
    let delay = 250;
    for (;;) {
      opts.beforeEach?.();
      const r = await this.call<T>(method, path, body, opts);
      const transient =
        !r.ok && (r.kind === 'down' || (r.kind === 'lost' && opts.retryLost !== false) || r.status === 503 || r.code === 'OTP_SENDING');
      if (!transient || Date.now() + delay > deadline || opts.stop?.()) return r;
      await sleep(delay);
      delay = Math.min(delay * 2, 2_000);
    }
  }
}
