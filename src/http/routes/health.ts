import type { FastifyInstance } from 'fastify';
import { HealthAnswer } from '../../domain/api.js';
import type { BusHealth } from '../../services/ports.js';

export interface HealthSources {
  lockerId: string;
  db(): Promise<boolean>;
  mqtt(): boolean;
  bus(): BusHealth;
  /** The SMS gateway (absent: not reported). */
  sms?(): { ok: boolean; detail?: string };
}

/**
 * The database check counts as down past this, whatever the source does: a frozen database must
 * not hold /health (the source, `Db.ping()`, has its own shorter bound).
 */
export const HEALTH_DB_TIMEOUT_MS = 2_000;

async function withinTimeout(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      check().catch(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** `GET /health`: 200 `{status, db, mqtt, bus}`; status is `ok` only when all three are. */
export async function healthRoutes(app: FastifyInstance, opts: { health: HealthSources }) {
  const { health } = opts;
  app.get(
    '/health',
    {
      schema: {
        response: {
          200: HealthAnswer,
        },
      },
    },
    async (): Promise<HealthAnswer> => {
      const [dbOk, busHealth] = await Promise.all([withinTimeout(() => health.db(), HEALTH_DB_TIMEOUT_MS), Promise.resolve(health.bus())]);
      const mqttOk = health.mqtt();
      const offline = busHealth.boards.filter((b) => !b.online).map((b) => b.id);
      const anyLink = busHealth.buses.some((b) => b.open);
      const bus = busHealth.ok ? 'ok' : anyLink && offline.length < busHealth.boards.length ? 'degraded' : 'down';
      const smsOk = health.sms ? health.sms().ok : true;
      return {
        status: dbOk && mqttOk && bus === 'ok' && smsOk ? 'ok' : 'degraded',
        lockerId: health.lockerId,
        db: dbOk ? 'ok' : 'down',
        mqtt: mqttOk ? 'ok' : 'down',
        bus,
        sms: smsOk ? 'ok' : 'down',
        boardsOffline: offline,
        busErrors: busHealth.buses.filter((b) => !b.open && b.lastError).map((b) => b.lastError!),
        lastScanMs: busHealth.lastScanMs ?? null,
      };
    },
  );
}
