/** The controller's configuration after YAML, schema check and environment overrides. */
import type { CabinetMap } from '../domain/cabinet.js';

export type HardwareDriver = 'simulator' | 'modbus' | 'gpio';
export type SmsGatewayKind = 'console' | 'http' | 'smpp';

export interface HardwareConfig {
  driver: HardwareDriver;
  /** Lock pulse length in ms (sent to the board in 100 ms units for board-timed profiles). */
  pulseMs: number;
  /** At most this many solenoids drawing current at once (the supply browns out beyond). */
  maxConcurrentPulses: number;
  /** Pause after one pulse ends before the next may start, in ms. */
  pulseSpacingMs: number;
  /** Pause between two full door scans, in ms (0: scan continuously). */
  scanIntervalMs: number;
  /** A door reading must hold this long before it counts, in ms. */
  debounceMs: number;
  /** Consecutive failed polls after which a board is declared offline. */
  offlineAfterFailures: number;
  /** While a board is offline it is probed this often, in ms (without retries). */
  offlineProbeMs: number;
  /**
   * Doors unread for longer than this (a board silent, failed polls, a stalled process) are a gap
   * in the watch: a lock release spanning it cannot end in "never opened". Default 1500 ms.
   */
  watchGapMs?: number;
  /** A closed serial port / TCP link is reopened after this delay, in ms. */
  reopenDelayMs: number;
  simulator: {
    /** Delay answers by the wire time of the frames at the bus baud rate. */
    paceWireTime: boolean;
    /** A released latch re-locks if the door is not opened within this time, in ms. */
    latchHoldMs: number;
  };
  map: CabinetMap;
}

export interface Config {
  locker: { id: string; name: string; timezone: string };
  http: { host: string; port: number; bodyLimit: number };
  database: {
    url: string | null;
    dataDir: string;
    poolSize: number;
    /** Waiting for a connection fails after this, in ms (default 3000). */
    connectTimeoutMs?: number;
    /** A statement is cancelled after this, in ms (default 5000); the client gives up 1 s later. */
    statementTimeoutMs?: number;
    /** /health's database ping reports down after this, in ms (default 1500). */
    healthTimeoutMs?: number;
  };
  mqtt: {
    url: string | null;
    embeddedPort: number;
    baseTopic: string;
    username: string | null;
    password: string | null;
    keepaliveSec: number;
    reconnectPeriodMs: number;
  };
  hardware: HardwareConfig;
  sms: {
    gateway: SmsGatewayKind;
    /** The registered alphanumeric sender name, first word of every text. */
    brand: string;
    /** Texts with diacritics (UCS-2, 70 characters a segment) instead of without (GSM-7, 160). */
    accented: boolean;
    /** Where results not collected in time go, named in texts. */
    counter: string;
    http: {
      /** Required with gateway http (SMS_HTTP_URL). */
      url?: string;
      method: 'POST' | 'GET';
      contentType: 'application/json' | 'application/x-www-form-urlencoded';
      headers: Record<string, string>;
      /** Value of the Authorization header (SMS_HTTP_AUTH), e.g. "Bearer …" */
      auth?: string | null;
      bodyTemplate: string;
      successPath: string | null;
      successValue: string | null;
      messageIdPath: string | null;
      timeoutMs: number;
      retries: number;
      backoffMs: number;
    };
    smpp: {
      /** Required with gateway smpp (SMPP_HOST). */
      host?: string;
      port: number;
      /** Required with gateway smpp (SMPP_SYSTEM_ID). */
      systemId?: string;
      password?: string;
      systemType: string;
      enquireLinkMs: number;
      submitTimeoutMs: number;
      reconnectMs: number;
    };
  };
  auth: {
    adminToken: string | null;
    staffToken: string | null;
    /** Master secret for phone hashing/encryption and code hashing (ATM247_SECRET_KEY). */
    secretKey: string | null;
    /** Where the secret is kept when not given: generated on first start (default `<dataDir>/secret.key`). */
    secretKeyFile: string | null;
  };
  staff: {
    /** Calendar days a loaded result waits in its tray before it is taken back to the counter. */
    pickupWindowDays: number;
    /** The reminder SMS goes this long before the window ends. */
    reminderBeforeHours: number;
    /** The manifest is drawn and `round.due` published this long before a round. */
    roundLeadMin: number;
    /** How often the round and unclaimed timers look at the clock, in ms. */
    tickMs: number;
  };
  citizens: {
    /** A released tray whose door is not opened within this is released back (deposit cancelled). */
    doorOpenTimeoutSec: number;
    /** A door open longer than this raises `alarm.door_held_open`. */
    doorHeldOpenSec: number;
    /** How often the flow timers look for the two above, in ms. */
    sweepMs: number;
    otp: {
      ttlSec: number;
      maxAttemptsPerCode: number;
      resendAfterSec: number;
      failuresBeforeCooldown: number;
      cooldownSec: number;
      perPhone: { count: number; windowMin: number }[];
      perLocker: { count: number; windowMin: number }[];
    };
  };
  log: { level: string };
}
