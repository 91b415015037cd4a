/**
 * The external services the benchmark runs against (PostgreSQL and an MQTT broker), a fresh
 * database per run, free ports, and small statistics helpers.
 *
 *   BENCH_DATABASE_URL   default postgres://postgres@127.0.0.1:5432/test
 *   BENCH_MQTT_URL       default mqtt://127.0.0.1:1883
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type pg from 'pg';
import { withClient } from '../chaos/database.js';

export const DATABASE_URL = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
export const MQTT_URL = process.env.BENCH_MQTT_URL || 'mqtt://127.0.0.1:1883';

const admin = <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => withClient(DATABASE_URL, fn);

/** An empty database on the server of BENCH_DATABASE_URL; `drop()` removes it. */
export async function freshDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `atm247_bench_${randomBytes(5).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The q-quantile by the nearest-rank method. */
export function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

/** Resolves with `fn()`'s first truthy value, polling every `everyMs`; rejects after `timeoutMs`. */
export async function until<T>(fn: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 5_000, everyMs = 5): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
