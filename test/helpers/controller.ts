/**
 * The whole controller for black-box tests: the real composition root on a fresh database
 * (embedded, or TEST_DATABASE_URL), a broker (fresh embedded, or TEST_MQTT_URL), the simulated
 * cabinet driven by the real Modbus driver, and HTTP through `inject()`.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Logger } from 'pino';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/types.js';
import { Controller } from '../../src/controller.js';
import type { OffsetClock } from '../../src/domain/clock.js';
import { silentLogger } from '../../src/log.js';
import { freshDatabaseUrl } from './db.js';
import { watchContract } from './contract-watch.js';
import { forgetSession, lifo, testBroker, uniqueLockerId } from './mqtt.js';

export const ADMIN_TOKEN = 'test-admin-token-000000000000';
export const STAFF_TOKEN = 'test-staff-token-000000000000';
export const SECRET_KEY = 'test-secret-key-0000000000000000000000';
/**
 * Per-address limits for a test that makes many requests from one address (`app.inject` comes from
 * 127.0.0.1): `startTestLocker(t, { http: { rateLimits: MANY_REQUESTS } })`. Other tests run on the
 * defaults of config/default.yaml.
 */
export const MANY_REQUESTS = {
  codeRequests: { max: 100_000, windowSec: 60 },
  dossierLookup: { max: 100_000, windowSec: 60 },
  signIn: { max: 100_000, windowSec: 60 },
};

interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface TestLocker {
  controller: Controller;
  config: Config;
  /** The database this locker uses (to start another controller on it, or to cut it). */
  databaseUrl: string;
  http: FastifyInstance;
  lockerId: string;
  mqttUrl: string;
  /** `atm247test/<lockerId>` */
  base: string;
  as(token: string | null): Requester;
  admin: Requester;
  staff: Requester;
  anonymous: Requester;
}

export interface Requester {
  get(url: string): Promise<LightMyRequestResponse>;
  post(url: string, body?: unknown): Promise<LightMyRequestResponse>;
  delete(url: string): Promise<LightMyRequestResponse>;
}

export async function startTestLocker(
  t: Teardown,
  overrides: Record<string, any> = {},
  hooks: {
    beforeStart?: (c: Controller) => Promise<void>;
    /** A database of the test's own (e.g. an embedded server it stops and restarts) instead of a fresh one. */
    databaseUrl?: string;
    /** Last changes to the configuration before the controller is built (e.g. an external cabinet). */
    configure?: (config: Config) => void;
    /** Another controller's database and locker: a restart on the same records (the caller drops it). */
    reuse?: { databaseUrl: string; lockerId: string };
    /** The controller's logger (silent by default), to read what it says. */
    logger?: Logger;
    /** The controller's clock (the system's by default), e.g. one pinned to an hour of the day. */
    clock?: OffsetClock;
  } = {},
): Promise<TestLocker> {
  const down = lifo(t);
  const lockerId = hooks.reuse?.lockerId ?? uniqueLockerId('ctl');
  const given = hooks.reuse?.databaseUrl ?? hooks.databaseUrl;
  const db = given ? { url: given, drop: async () => undefined } : await freshDatabaseUrl();
  down.teardown(() => db.drop());
  const broker = await testBroker(down);
  const config = loadConfig({
    env: {},
    overrides: {
      locker: { id: lockerId },
      http: { port: 0, ...(overrides.http ?? {}) },
      database: { url: db.url, poolSize: 8 },
      mqtt: { url: broker.url, baseTopic: 'atm247test', reconnectPeriodMs: 200 },
      auth: { adminToken: ADMIN_TOKEN, staffToken: STAFF_TOKEN, secretKey: SECRET_KEY },
      log: { level: 'silent' },
      hardware: {
        scanIntervalMs: 5,
        debounceMs: 20,
        offlineProbeMs: 200,
        pulseSpacingMs: 20,
        pulseMs: 100,
        simulator: { paceWireTime: false, latchHoldMs: 5_000 },
        ...(overrides.hardware ?? {}),
      },
      ...Object.fromEntries(Object.entries(overrides).filter(([k]) => k !== 'hardware' && k !== 'http')),
    },
  });
  // The bus keeps config/cabinet.yaml's answer times: a late answer on a loaded machine (CI's two
  // cores) is not taken for a silent board by a test that is not about one. A fault test that
  // wants other times sets them in `configure`.
  hooks.configure?.(config);
  const controller = new Controller({
    config,
    logger: hooks.logger ?? silentLogger(),
    ...(hooks.clock ? { clock: hooks.clock } : {}),
    events: { pollMs: 200, backoffMinMs: 50, backoffMaxMs: 500 },
  });
  // A shared broker keeps retained topics forever: clear what this locker published.
  const retained = [
    'availability',
    'occupancy',
    'rounds/next',
    'audit/head',
    ...config.hardware.map.trays.map((tr) => `trays/${tr.number}`),
  ];
  down.teardown(() =>
    forgetSession(
      broker.url,
      `atm247-${lockerId}`,
      retained.map((r) => `atm247test/${lockerId}/${r}`),
    ),
  );
  // Registered before the stop, so it runs after it: the goodbye `offline` is checked too.
  const contract = await watchContract(broker.url, `atm247test/${lockerId}`);
  down.teardown(() => contract.finish());
  down.teardown(() => controller.stop());
  if (hooks.beforeStart) await hooks.beforeStart(controller);
  await controller.start();
  const http = controller.http;
  const as = (token: string | null): Requester => {
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    return {
      get: (url) => http.inject({ method: 'GET', url, headers }),
      post: (url, body) => http.inject({ method: 'POST', url, headers, ...(body === undefined ? {} : { payload: body as any }) }),
      delete: (url) => http.inject({ method: 'DELETE', url, headers }),
    };
  };
  return {
    controller,
    config,
    databaseUrl: db.url,
    http,
    lockerId,
    mqttUrl: broker.url,
    base: `atm247test/${lockerId}`,
    as,
    admin: as(ADMIN_TOKEN),
    staff: as(STAFF_TOKEN),
    anonymous: as(null),
  };
}

/** Outbox events of one type, oldest first. */
export async function outboxEvents(locker: TestLocker, type: string): Promise<any[]> {
  const { rows } = await locker.controller.database.query(`SELECT payload FROM outbox WHERE locker_id = $1 AND type = $2 ORDER BY seq`, [
    locker.lockerId,
    type,
  ]);
  return rows.map((r: any) => r.payload);
}
