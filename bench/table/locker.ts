/**
 * A whole controller in this process for the benchmark: the real composition root
 * (src/controller.ts) on a fresh database of the PostgreSQL server, the MQTT broker, the simulated
 * cabinet pacing wire time (the default map: 19200 baud 8N1) and HTTP on a loopback port, plus a
 * subscriber on the locker's events and a citizen's deposit made through HTTP.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { CabinetSimulator } from '../../hardware/index.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { Controller } from '../../src/controller.js';
import { silentLogger } from '../../src/log.js';
import { freePort, freshDatabase, MQTT_URL, until } from './services.js';

const ADMIN_TOKEN = `bench-admin-${randomBytes(12).toString('hex')}`;
const BASE_TOPIC = 'atm247bench';
/**
 * One kiosk address makes every request here, and the code-sending caps (per address, per locker)
 * are SMS-pumping guards measured in codes per quarter hour: the throughput figure lifts them, as
 * a locker with several kiosks behind one address would. Everything else is config/default.yaml.
 */
const LIFTED = { max: 100_000, windowSec: 60 };

export interface EventMessage {
  type: string;
  data: Record<string, unknown>;
  /** performance.now() at arrival. */
  atMs: number;
}

export interface BenchLocker {
  config: Config;
  controller: Controller;
  cabinet: CabinetSimulator;
  /** Every `events/<type>` message since start. */
  events: EventMessage[];
  /** Waits for an event of `type` with `data.tray === tray` arriving after `sinceMs`. */
  waitEvent(type: string, match: (data: Record<string, unknown>) => boolean, sinceMs: number, timeoutMs?: number): Promise<EventMessage>;
  post(url: string, body?: unknown, token?: string): Promise<{ status: number; json: any }>;
  get(url: string): Promise<{ status: number; json: any }>;
  admin: string;
  stop(): Promise<void>;
}

export async function startBenchLocker(overrides: Record<string, any> = {}): Promise<BenchLocker> {
  const db = await freshDatabase();
  const lockerId = `bench-${randomBytes(4).toString('hex')}`;
  const port = await freePort();
  const config = loadConfig({
    env: {},
    overrides: {
      locker: { id: lockerId },
      http: { port, rateLimits: { codeRequests: LIFTED, dossierLookup: LIFTED, signIn: LIFTED } },
      database: { url: db.url },
      mqtt: { url: MQTT_URL, baseTopic: BASE_TOPIC },
      auth: { adminToken: ADMIN_TOKEN, secretKey: `bench-secret-${randomBytes(16).toString('hex')}` },
      log: { level: 'silent' },
      citizens: { otp: { perLocker: [{ count: 100_000, windowMin: 15 }] } },
      ...overrides,
    },
  });
  const controller = new Controller({ config, logger: silentLogger() });
  const base = `${BASE_TOPIC}/${lockerId}`;
  const events: EventMessage[] = [];
  const waiters = new Set<() => void>();
  let subscriber: MqttClient | undefined;
  const stop = async (): Promise<void> => {
    await controller.stop().catch(() => undefined);
    if (subscriber) {
      // A shared broker keeps retained topics and persistent sessions: clear what this locker left.
      const retained = [
        'availability',
        'occupancy',
        'rounds/next',
        'audit/head',
        ...config.hardware.map.trays.map((t) => `trays/${t.number}`),
      ];
      for (const topic of retained) await subscriber.publishAsync(`${base}/${topic}`, '', { retain: true, qos: 0 }).catch(() => undefined);
      await subscriber.endAsync().catch(() => undefined);
      const session = await mqtt
        .connectAsync(MQTT_URL, { clientId: `atm247-${lockerId}`, clean: true, reconnectPeriod: 0 })
        .catch(() => null);
      await session?.endAsync().catch(() => undefined);
    }
    await db.drop().catch(() => undefined);
  };
  try {
    subscriber = await mqtt.connectAsync(MQTT_URL, { clientId: `atm247-bench-sub-${randomBytes(4).toString('hex')}`, clean: true });
    subscriber.on('message', (topic, payload) => {
      const atMs = performance.now();
      const message = JSON.parse(payload.toString());
      events.push({ type: topic.slice(`${base}/events/`.length), data: message.data ?? {}, atMs });
      for (const wake of waiters) wake();
    });
    await subscriber.subscribeAsync(`${base}/events/#`, { qos: 1 });
    await controller.start();
    await controller.listen();
  } catch (err) {
    await stop();
    throw err;
  }
  const origin = `http://127.0.0.1:${port}`;
  const call = async (method: string, url: string, body?: unknown, token?: string) => {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(origin + url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  };
  return {
    config,
    controller,
    cabinet: controller.cabinet!,
    events,
    waitEvent: (type, match, sinceMs, timeoutMs = 5_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const found = events.find((e) => e.type === type && e.atMs >= sinceMs && match(e.data));
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no events/${type} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    post: (url, body, token) => call('POST', url, body ?? {}, token),
    get: (url) => call('GET', url),
    admin: ADMIN_TOKEN,
    stop,
  };
}

let phoneSeq = 0;
/** A Vietnamese mobile number no other deposit of this process used (distinct phones: no per-phone caps). */
export function nextPhone(): string {
  phoneSeq += 1;
  return `09${String(10_000_000 + ((process.pid * 7919 + phoneSeq) % 89_999_999)).padStart(8, '0')}`;
}

/** The newest code texted to `phone`, read from the console gateway's inbox (GET /api/sim/sms). */
export async function codeFor(locker: BenchLocker, phone: string): Promise<string> {
  const msg = await until(
    async () => ((await locker.get(`/api/sim/sms?to=${phone}`)).json as { kind: string; text: string }[]).find((m) => m.kind === 'otp'),
    `the code for ${phone}`,
  );
  const code = /\b(\d{6,10})\b/.exec(msg.text)?.[1];
  if (!code) throw new Error('no code in the text');
  return code;
}

/** Asks for a code (POST /api/deposits) and reads it from the SMS inbox. */
export async function askCode(locker: BenchLocker, procedureCode: string): Promise<{ challengeId: string; otp: string }> {
  const phone = nextPhone();
  const asked = await locker.post('/api/deposits', { phone, procedureCode });
  if (asked.status !== 202) throw new Error(`POST /api/deposits: ${asked.status} ${JSON.stringify(asked.json)}`);
  return { challengeId: asked.json.challengeId, otp: await codeFor(locker, phone) };
}

/**
 * POST /api/deposits/:id/verify; a code the gateway has not confirmed yet answers OTP_SENDING (as
 * for a citizen quicker than the provider): asked again. Returns the tray opened and when the
 * accepted request was sent (performance.now()).
 */
export async function verify(
  locker: BenchLocker,
  challengeId: string,
  otp: string,
): Promise<{ tray: number; depositId: string; sentMs: number }> {
  for (let attempt = 0; ; attempt++) {
    const sentMs = performance.now();
    const res = await locker.post(`/api/deposits/${challengeId}/verify`, { otp });
    if (res.status === 200) return { tray: res.json.tray, depositId: res.json.depositId, sentMs };
    if (res.json?.error?.code !== 'OTP_SENDING' || attempt > 200) throw new Error(`verify: ${res.status} ${JSON.stringify(res.json)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
