/**
 * The daemon under test in the fault campaign (bench/chaos.ts): a small composition root like
 * src/main.ts that builds the real Controller with
 *   - the real Modbus driver (`hardware.driver: modbus`) on the campaign's simulated cabinet, each
 *     bus reached like an RS-485/Ethernet gateway at the simulator's RTU-over-TCP endpoint;
 *   - the database the campaign gives (its embedded PostgreSQL server, or a server's URL);
 *   - MQTT through the campaign's cuttable TCP proxy in front of its broker;
 *   - the real HTTP SMS adapter against the campaign's fake provider;
 *   - short timings, so that a campaign cycle takes seconds.
 *
 * Run by the campaign only: `node --import tsx bench/chaos/daemon.ts`, with an IPC channel and its
 * settings as JSON in ATM247_CHAOS_DAEMON. It sends `{type: 'ready', port}` once /health answers,
 * takes `{clockOffsetMs}` (a wall-clock step: `controller.clock.setOffset`), stops on SIGTERM, and
 * exits when the campaign goes away (the IPC channel closes), so that it never outlives it.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config/load.js';
import { Controller } from '../../src/controller.js';
import { createLogger } from '../../src/log.js';
import { SETTINGS_ENV, type ChaosDaemonSettings, type DaemonMessage } from './protocol.js';

function settingsFromEnv(): ChaosDaemonSettings {
  const text = process.env[SETTINGS_ENV];
  if (!text) {
    console.error(`${SETTINGS_ENV} is not set: this daemon is started by bench/chaos.ts`);
    process.exit(64);
  }
  return JSON.parse(text) as ChaosDaemonSettings;
}

function send(message: DaemonMessage): void {
  if (process.send && process.connected) process.send(message);
}

const s = settingsFromEnv();
mkdirSync(s.runDir, { recursive: true });

// The cabinet map of the locker (config/cabinet.yaml), each bus turned into a TCP gateway bus.
const map = structuredClone(loadConfig({ env: {} }).hardware.map);
for (const bus of map.buses) {
  const at = s.endpoints[bus.id];
  if (!at) throw new Error(`the campaign gave no simulator endpoint for bus ${bus.id}`);
  delete bus.path;
  bus.host = at.host;
  bus.port = at.port;
  // As the black-box tests do: a silent board costs 2 × 50 ms a scan, not 3 × 100 ms.
  bus.timeoutMs = 50;
  bus.retries = 1;
}

const config = loadConfig({
  // Nothing from the campaign's own environment (a DATABASE_URL there must not leak in).
  env: {},
  overrides: {
    locker: { id: s.lockerId },
    http: {
      host: '127.0.0.1',
      port: 0,
      // Every simulated citizen asks for codes from 127.0.0.1, several at once: the per-address
      // limit would stop the campaign, not a fault. The daemon listens on loopback, a kiosk address.
      rateLimits: { codeRequests: { max: 100_000, windowSec: 60 } },
    },
    database: { url: s.databaseUrl, dataDir: s.runDir, poolSize: 8 },
    mqtt: { url: s.mqttUrl, reconnectPeriodMs: 200, keepaliveSec: 5 },
    hardware: {
      driver: 'modbus',
      scanIntervalMs: 5,
      debounceMs: 20,
      offlineProbeMs: 200,
      pulseSpacingMs: 20,
      pulseMs: 100,
      reopenDelayMs: 200,
      // Not used by the modbus driver (the cabinet is the campaign's); stated for the record. The
      // campaign's simulator releases a latch for latchHoldMs, shorter than the door-open timeout.
      simulator: { paceWireTime: false, latchHoldMs: s.latchHoldMs },
      map,
    },
    sms: {
      gateway: 'http',
      http: { url: s.smsUrl, timeoutMs: 2_000, retries: 2, backoffMs: 100 },
    },
    auth: { staffToken: s.staffToken, adminToken: s.adminToken, secretKey: s.secretKey },
    staff: { tickMs: 200 },
    citizens: {
      doorOpenTimeoutSec: s.doorOpenTimeoutSec,
      doorHeldOpenSec: 10,
      sweepMs: 200,
      // Thousands of codes in minutes from one locker: the SMS-pumping guard would stop the
      // campaign, not a fault. The per-phone limits stay (the campaign uses a new number each time).
      otp: { perLocker: [{ count: 100_000, windowMin: 60 }] },
    },
    log: { level: s.logLevel },
  },
});
// The physical contract the door-truth windows rely on (ADR 0012): a released latch locks again
// before the controller concludes "never opened". loadConfig checks it for the built-in simulator
// only; this cabinet is the campaign's, so check it here.
if (s.latchHoldMs >= config.citizens.doorOpenTimeoutSec * 1000) {
  console.error(`latchHoldMs ${s.latchHoldMs} must be shorter than the door-open timeout (${config.citizens.doorOpenTimeoutSec} s)`);
  process.exit(78);
}

const logger = createLogger({
  level: s.logLevel,
  // Synchronous: a SIGKILL must not eat the last lines before it.
  destination: pino.destination({ dest: path.join(s.runDir, 'daemon.log'), sync: true, append: true, mkdir: true }),
});
const controller = new Controller({ config, logger, events: { pollMs: 200, backoffMinMs: 50, backoffMaxMs: 1_000 } });
controller.clock.setOffset(s.clockOffsetMs);

let stopping = false;
async function shutdown(why: string, code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ why }, 'chaos daemon stopping');
  const force = setTimeout(() => process.exit(code || 1), 15_000);
  force.unref();
  await controller.stop().catch(() => undefined);
  process.exit(code);
}
process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
process.on('SIGINT', () => void shutdown('SIGINT', 0));
// The campaign went away (or closed the channel): never outlive it.
process.on('disconnect', () => void shutdown('campaign gone', 0));
process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled promise rejection'));
process.on('message', (message: unknown) => {
  const m = message as { clockOffsetMs?: unknown };
  if (typeof m?.clockOffsetMs === 'number' && Number.isFinite(m.clockOffsetMs)) {
    controller.clock.setOffset(m.clockOffsetMs);
    send({ type: 'clock', offsetMs: controller.clock.offset });
  }
});

try {
  await controller.start();
  const address = await controller.listen();
  const port = Number(new URL(address).port);
  // Ready once /health answers (whatever it says: the campaign's faults may be on).
  for (let i = 0; ; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(3_000) }).catch(() => null);
    if (res) {
      await res.arrayBuffer().catch(() => undefined);
      break;
    }
    if (i > 50) throw new Error('/health does not answer');
    await new Promise((r) => setTimeout(r, 100));
  }
  logger.info({ address }, 'chaos daemon ready');
  send({ type: 'ready', port, pid: process.pid });
} catch (err) {
  logger.fatal({ err }, 'chaos daemon: start failed');
  console.error(`start failed: ${(err as Error).message}`);
  await shutdown('start failed', 1);
}
