/**
 * What is checked of a request before any other work (the `onRequest` hooks, before the body is
 * read): how many requests its client address made lately (`http.rateLimits`, 429
 * TOO_MANY_REQUESTS with Retry-After), and whether a kiosk-only route (one-time codes, following
 * a pickup's results, ratings) is asked from the kiosk (`http.kioskClients`, 403 KIOSK_ONLY).
 *
 * The client address is the socket's peer: Fastify's `trustProxy` is off, so an X-Forwarded-For
 * header changes nothing.
 */
import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import { addressMatcher } from '../domain/client-addresses.js';
import { AppError } from '../domain/errors.js';

export interface ClientLimit {
  max: number;
  windowSec: number;
}

export interface ClientGuardOptions {
  /** Addresses or CIDR ranges of the kiosk: the only clients that may ask for and check codes. */
  kioskClients: readonly string[];
  rateLimits: {
    /** POST /api/deposits, POST /api/pickups and their resend routes, one count for all four. */
    codeRequests: ClientLimit;
    /** Unauthenticated lookups by a dossier number. */
    dossierLookup: ClientLimit;
    /** Unauthenticated sign-in routes. */
    signIn: ClientLimit;
  };
}

/** The hooks a route puts first in its `onRequest`. */
export interface RouteGuards {
  codeRequests: onRequestHookHandler;
  dossierLookup: onRequestHookHandler;
  signIn: onRequestHookHandler;
  kioskOnly: onRequestHookHandler;
}

/** Client addresses counted at once per limit; past it, the oldest window is forgotten first. */
const MAX_CLIENTS = 10_000;

/**
 * Counts per client in fixed windows, as the plugin's own store does, except that each answer is
 * taken when the request is counted: requests that arrive together are let through up to `max`
 * and refused past it, rather than all judged on the count the last of them left.
 */
class WindowCounts {
  private readonly windows = new Map<string, { count: number; startMs: number }>();

  incr(key: string, answer: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number): void {
    const now = Date.now();
    let window = this.windows.get(key);
    if (!window || window.startMs + timeWindow <= now) {
      this.windows.delete(key);
      if (this.windows.size >= MAX_CLIENTS) this.windows.delete(this.windows.keys().next().value!);
      window = { count: 0, startMs: now };
      this.windows.set(key, window);
    }
    window.count += 1;
    answer(null, { current: window.count, ttl: window.startMs + timeWindow - now });
  }

  child(): WindowCounts {
    return new WindowCounts();
  }
}

/** The client's key: its address, an IPv4-mapped address as IPv4, an IPv6 address by its /64. */
function clientKey(request: FastifyRequest): string {
  return normalizeIP(request.ip || 'unknown');
}

/**
 * Registers the rate limiter (no route is limited unless it uses one of the hooks returned) and
 * builds each route's hooks. Each limit keeps its own count per client address.
 */
export async function clientGuards(app: FastifyInstance, opts: ClientGuardOptions): Promise<RouteGuards> {
  await app.register(rateLimit, {
    global: false,
    store: WindowCounts,
    keyGenerator: clientKey,
    // The counts are not announced on answers that pass; a refusal carries Retry-After.
    addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
    addHeaders: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false, 'retry-after': true },
    errorResponseBuilder: (_request, context) => {
      const retryAfterSec = Math.max(1, Math.ceil(context.ttl / 1000));
      return new AppError('TOO_MANY_REQUESTS', `too many requests from this address; try again in ${retryAfterSec} s`, {
        retryAfterSec,
      });
    },
  });
  const limit = (name: keyof ClientGuardOptions['rateLimits']): onRequestHookHandler => {
    const { max, windowSec } = opts.rateLimits[name];
    // A refusal is logged once, as every refused request is (app.ts), not once more here.
    return app.rateLimit({ max, timeWindow: windowSec * 1000 }) as onRequestHookHandler;
  };
  const isKiosk = addressMatcher(opts.kioskClients);
  const kioskOnly: onRequestHookHandler = async (request) => {
    if (!isKiosk(request.ip)) {
      // With the address, so that a kiosk left out of KIOSK_CLIENTS (behind Docker, say) is found.
      request.log.info({ client: request.ip, url: request.routeOptions.url }, 'kiosk route refused: not a kiosk address');
      throw new AppError(
        'KIOSK_ONLY',
        "one-time codes, a pickup's results, ID card scans, payments at the QR and ratings are asked for, checked and given at the locker's own screen only",
      );
    }
  };
  return { codeRequests: limit('codeRequests'), dossierLookup: limit('dossierLookup'), signIn: limit('signIn'), kioskOnly };
}
