/**
 * `npm run fleet`: one instance of the fleet service (docs/fleet.md), configured by environment:
 * FLEET_DATABASE_URL, FLEET_MQTT_URL (MQTT 5 broker), FLEET_MQTT_USERNAME / FLEET_MQTT_PASSWORD
 * (`npm run fleet:provision -- fleet`), FLEET_ADMIN_TOKEN (16+ characters), FLEET_INSTANCE (a
 * stable name per instance; default the host name), FLEET_GROUP (default `fleet`),
 * FLEET_BASE_TOPIC (default `atm247`), FLEET_HOST / FLEET_PORT (default 127.0.0.1:8090), FLEET_TIMEZONE
 * (the figures' days; default Asia/Ho_Chi_Minh), FLEET_HEARTBEAT_MS / FLEET_STALE_MS /
 * FLEET_REPLAY_MARGIN_MS (heartbeats and the replay after a crash, src/fleet/peers.ts: default 5 s,
 * 60 s, 60 s), FLEET_RECEIVE_MAXIMUM (messages the broker may send before they are acknowledged:
 * what a database away holds in memory, src/fleet/ingest.ts; default 6,000, 1–65,535),
 * FLEET_IDLE_IN_TRANSACTION_MS (how long a hung instance may hold its rows locked, src/fleet/store.ts;
 * default 5 s), LOG_LEVEL.
 */
import os from 'node:os';
import { createLogger } from '../log.js';
import { FleetService } from './service.js';

const env = process.env;
const missing = ['FLEET_DATABASE_URL', 'FLEET_MQTT_URL', 'FLEET_ADMIN_TOKEN'].filter((name) => !env[name]);
if (missing.length) {
  console.error(`fleet: ${missing.join(', ')} must be set (docs/fleet.md)`);
  process.exit(78);
}
if (env.FLEET_ADMIN_TOKEN!.length < 16) {
  console.error('fleet: FLEET_ADMIN_TOKEN must be at least 16 characters');
  process.exit(78);
}
const port = Number(env.FLEET_PORT ?? 8090);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`fleet: FLEET_PORT "${env.FLEET_PORT}" is not a port`);
  process.exit(78);
}

const timezone = env.FLEET_TIMEZONE ?? 'Asia/Ho_Chi_Minh';
try {
  new Intl.DateTimeFormat('en', { timeZone: timezone });
} catch {
  console.error(`fleet: FLEET_TIMEZONE "${timezone}" is not a time zone (e.g. Asia/Ho_Chi_Minh)`);
  process.exit(78);
}

/** A setting in milliseconds: unset for the default. */
const ms = (name: string): number | undefined => {
  if (env[name] === undefined) return undefined;
  const value = Number(env[name]);
  if (Number.isInteger(value) && value > 0) return value;
  console.error(`fleet: ${name} "${env[name]}" is not a number of milliseconds`);
  process.exit(78);
};
// The crash replay's timing (src/fleet/peers.ts, ADR 0023).
const peers = { heartbeatMs: ms('FLEET_HEARTBEAT_MS'), staleMs: ms('FLEET_STALE_MS'), marginMs: ms('FLEET_REPLAY_MARGIN_MS') };
if ((peers.staleMs ?? 60_000) <= 2 * (peers.heartbeatMs ?? 5_000)) {
  console.error('fleet: FLEET_STALE_MS must be more than twice FLEET_HEARTBEAT_MS');
  process.exit(78);
}

const receiveMaximum = env.FLEET_RECEIVE_MAXIMUM === undefined ? undefined : Number(env.FLEET_RECEIVE_MAXIMUM);
if (receiveMaximum !== undefined && !(Number.isInteger(receiveMaximum) && receiveMaximum >= 1 && receiveMaximum <= 65_535)) {
  console.error(`fleet: FLEET_RECEIVE_MAXIMUM "${env.FLEET_RECEIVE_MAXIMUM}" is not a number of messages from 1 to 65535`);
  process.exit(78);
}

const idleInTransactionMs = ms('FLEET_IDLE_IN_TRANSACTION_MS');

const logger = createLogger({ level: env.LOG_LEVEL });
const service = new FleetService({
  databaseUrl: env.FLEET_DATABASE_URL!,
  mqttUrl: env.FLEET_MQTT_URL!,
  mqttUsername: env.FLEET_MQTT_USERNAME,
  mqttPassword: env.FLEET_MQTT_PASSWORD,
  baseTopic: env.FLEET_BASE_TOPIC,
  group: env.FLEET_GROUP,
  instance: env.FLEET_INSTANCE ?? os.hostname(),
  adminToken: env.FLEET_ADMIN_TOKEN!,
  timezone,
  peers,
  ingest: { receiveMaximum },
  idleInTransactionMs,
  logger,
});

const stop = (signal: string) => {
  logger.info({ signal }, 'fleet stopping');
  void service.stop().finally(() => process.exit(0));
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));

try {
  await service.start();
  const address = await service.listen(env.FLEET_HOST ?? '127.0.0.1', port);
  logger.info({ address }, `fleet service ready at ${address}`);
} catch (err) {
  logger.fatal({ err }, 'fleet start failed');
  await service.stop().catch(() => undefined);
  process.exit(1);
}
