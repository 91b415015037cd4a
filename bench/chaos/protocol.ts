/** What the campaign (bench/chaos.ts) and its daemon (bench/chaos/daemon.ts) say to each other. */

export interface ChaosDaemonSettings {
  lockerId: string;
  databaseUrl: string;
  /** The broker, through the campaign's proxy. */
  mqttUrl: string;
  /** The fake SMS provider. */
  smsUrl: string;
  /** Per bus of the cabinet map: where the simulator listens for it. */
  endpoints: Record<string, { host: string; port: number }>;
  staffToken: string;
  adminToken: string;
  secretKey: string;
  /** Where the daemon writes its log (appended across restarts) and any file of its own. */
  runDir: string;
  logLevel: string;
  /** The released latch's hold time in the campaign's simulator (recorded in the config). */
  latchHoldMs: number;
  /** Door-open timeout, s (the schema's minimum is 10). */
  doorOpenTimeoutSec: number;
  /** The wall-clock offset to start with (the campaign's current one, across restarts). */
  clockOffsetMs: number;
}

export type DaemonMessage = { type: 'ready'; port: number; pid: number } | { type: 'clock'; offsetMs: number };

export const SETTINGS_ENV = 'ATM247_CHAOS_DAEMON';
