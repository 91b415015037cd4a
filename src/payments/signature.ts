/**
 * The payment webhook's authentication: the provider signs each notification with a shared secret.
 * Header `X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`; the
 * timestamp is signed too, so a captured notification cannot be replayed after the tolerance.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

function mac(secret: string, rawBody: string | Buffer, t: number): Buffer {
  return createHmac('sha256', secret).update(`${t}.`).update(rawBody).digest();
}

/** The X-Signature header value for a body sent at `atSec` (unix seconds). */
export function signBody(secret: string, rawBody: string | Buffer, atSec: number): string {
  const t = Math.floor(atSec);
  return `t=${t},v1=${mac(secret, rawBody, t).toString('hex')}`;
}

/**
 * Whether `header` signs exactly `rawBody` with `secret`, at a time within `toleranceSec` of
 * `nowSec` either way. False for anything missing or malformed; never throws.
 */
export function checkSignature(secret: string, rawBody: Buffer, header: string | undefined, nowSec: number, toleranceSec = 300): boolean {
  try {
    if (typeof header !== 'string' || !secret) return false;
    const fields = new Map<string, string>();
    for (const part of header.split(',')) {
      const eq = part.indexOf('=');
      if (eq < 0) return false;
      const key = part.slice(0, eq).trim();
      if (fields.has(key)) return false;
      fields.set(key, part.slice(eq + 1).trim());
    }
    const t = fields.get('t');
    const v1 = fields.get('v1');
    if (!t || !/^\d{1,12}$/.test(t) || !v1 || !/^[0-9a-fA-F]{64}$/.test(v1)) return false;
    if (Math.abs(nowSec - Number(t)) > toleranceSec) return false;
    // Both 32 bytes: the regex above fixed the length, as timingSafeEqual requires.
    return timingSafeEqual(Buffer.from(v1, 'hex'), mac(secret, rawBody, Number(t)));
  } catch {
    return false;
  }
}
