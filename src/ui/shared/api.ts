/** Calls to the controller's HTTP API, with its errors turned into `ApiError` (stable `code`). */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface CallOptions {
  body?: unknown;
  token?: string | null;
  signal?: AbortSignal;
}

/** One call to the API; `T` is the answer's type from the domain's contract (src/domain/api*.ts), never restated here. */
export async function api<T = unknown>(method: string, url: string, opts: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = {};
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal ?? AbortSignal.timeout(15_000),
    });
  } catch (err) {
    throw new ApiError(0, 'NETWORK', err instanceof Error ? err.message : String(err));
  }
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const e = json?.error;
    throw new ApiError(res.status, e?.code ?? `HTTP_${res.status}`, e?.message ?? res.statusText, e?.details ?? {});
  }
  return json as T;
}

/** A bearer token kept for this browser tab only (staff and admin screens). */
export const tokenStore = {
  get(key: string): string | null {
    return sessionStorage.getItem(key);
  },
  set(key: string, token: string | null): void {
    if (token) sessionStorage.setItem(key, token);
    else sessionStorage.removeItem(key);
  },
  /** A token handed over in the page's fragment (`#token=…`, from the simulator panel); removed from the address. */
  fromHash(key: string): void {
    const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
    if (!m) return;
    sessionStorage.setItem(key, decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname + location.search);
  },
};
