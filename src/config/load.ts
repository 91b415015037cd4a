/**
 * Reads the YAML configuration, applies environment overrides, checks it against the schema and
 * checks the cabinet map's cross-references. Any wrong value throws a ConfigError naming the field.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseYaml } from './yaml-file.js';
import type { CabinetMap } from '../domain/cabinet.js';
import { addressEntryProblem } from '../domain/client-addresses.js';
import { PACKAGE_ROOT } from './package-root.js';
import type { Config } from './types.js';
import { validateConfig as validate } from './validators.js';

export const CONFIG_DIR = path.join(PACKAGE_ROOT, 'config');
export const DEFAULT_CONFIG_FILE = path.join(CONFIG_DIR, 'default.yaml');

export class ConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`configuration: ${field} ${message}`);
    this.name = 'ConfigError';
  }
}

type EnvKind = 'string' | 'int' | 'nullableString' | 'list';
/** Environment variable → configuration field. These always work (DESIGN.md, "Configuration"). */
export const ENV_OVERRIDES: { env: string; field: string; kind: EnvKind }[] = [
  { env: 'HOST', field: 'http.host', kind: 'string' },
  { env: 'PORT', field: 'http.port', kind: 'int' },
  { env: 'KIOSK_CLIENTS', field: 'http.kioskClients', kind: 'list' },
  { env: 'DATABASE_URL', field: 'database.url', kind: 'nullableString' },
  { env: 'DATA_DIR', field: 'database.dataDir', kind: 'string' },
  { env: 'MQTT_URL', field: 'mqtt.url', kind: 'nullableString' },
  { env: 'MQTT_EMBEDDED_PORT', field: 'mqtt.embeddedPort', kind: 'int' },
  { env: 'MQTT_USERNAME', field: 'mqtt.username', kind: 'nullableString' },
  { env: 'MQTT_PASSWORD', field: 'mqtt.password', kind: 'nullableString' },
  { env: 'HARDWARE', field: 'hardware.driver', kind: 'string' },
  { env: 'ID_SCANNER', field: 'idScanner.kind', kind: 'string' },
  { env: 'ID_SCANNER_PATH', field: 'idScanner.path', kind: 'nullableString' },
  { env: 'SMS_GATEWAY', field: 'sms.gateway', kind: 'string' },
  { env: 'SMS_HTTP_URL', field: 'sms.http.url', kind: 'nullableString' },
  { env: 'SMS_HTTP_AUTH', field: 'sms.http.auth', kind: 'nullableString' },
  { env: 'SMPP_HOST', field: 'sms.smpp.host', kind: 'nullableString' },
  { env: 'SMPP_PORT', field: 'sms.smpp.port', kind: 'int' },
  { env: 'SMPP_SYSTEM_ID', field: 'sms.smpp.systemId', kind: 'nullableString' },
  { env: 'SMPP_PASSWORD', field: 'sms.smpp.password', kind: 'nullableString' },
  { env: 'LOCKER_ID', field: 'locker.id', kind: 'string' },
  { env: 'ATM247_ADMIN_TOKEN', field: 'auth.adminToken', kind: 'nullableString' },
  { env: 'ATM247_STAFF_TOKEN', field: 'auth.staffToken', kind: 'nullableString' },
  { env: 'ATM247_SECRET_KEY', field: 'auth.secretKey', kind: 'nullableString' },
  { env: 'LOG_LEVEL', field: 'log.level', kind: 'string' },
  { env: 'PAYMENT_PROVIDER', field: 'payments.provider', kind: 'string' },
  { env: 'PAYMENT_WEBHOOK_SECRET', field: 'payments.webhookSecret', kind: 'nullableString' },
  { env: 'PAYMENT_POLL_URL', field: 'payments.poll.url', kind: 'nullableString' },
  { env: 'PAYMENT_POLL_TOKEN', field: 'payments.poll.token', kind: 'nullableString' },
  { env: 'PUBLIC_URL', field: 'payments.publicUrl', kind: 'nullableString' },
];

function setField(target: Record<string, any>, field: string, value: unknown): void {
  const keys = field.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key];
  }
  node[keys[keys.length - 1]] = value;
}

function applyEnv(raw: Record<string, any>, env: NodeJS.ProcessEnv): void {
  for (const { env: name, field, kind } of ENV_OVERRIDES) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (kind === 'int') {
      if (!/^\d+$/.test(value.trim())) throw new ConfigError(field, `(from ${name}) must be an integer, got "${value}"`);
      setField(raw, field, Number(value));
    } else if (kind === 'list') {
      setField(
        raw,
        field,
        value
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean),
      );
    } else {
      setField(raw, field, value);
    }
  }
}

function readYaml(file: string, field: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(field, `cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return parseYaml(text);
  } catch (err) {
    throw new ConfigError(field, `is not valid YAML (${file}): ${(err as Error).message}`);
  }
}

/** Turns an ajv error into "hardware.map.trays[3].size must be one of S, M, L". */
function describeSchemaError(): ConfigError {
  const e = validate.errors![0];
  const segments = e.instancePath.split('/').slice(1);
  let field = '';
  for (const s of segments) field += /^\d+$/.test(s) ? `[${s}]` : (field ? '.' : '') + s;
  if (e.keyword === 'additionalProperties') {
    return new ConfigError(`${field ? field + '.' : ''}${(e.params as any).additionalProperty}`, 'is not a known setting');
  }
  if (e.keyword === 'required') {
    return new ConfigError(`${field ? field + '.' : ''}${(e.params as any).missingProperty}`, 'is required');
  }
  if (e.keyword === 'enum') {
    return new ConfigError(field || '(root)', `must be one of ${(e.params as any).allowedValues.join(', ')}`);
  }
  return new ConfigError(field || '(root)', e.message ?? 'is invalid');
}

/** Cross-references the schema cannot express. */
export function checkCabinetMap(map: CabinetMap, driver: string): void {
  const f = (i: number, key: string) => `hardware.map.trays[${i}].${key}`;
  const unique = (items: { id: string }[], what: string) => {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      if (seen.has(item.id)) throw new ConfigError(`hardware.map.${what}[${i}].id`, `"${item.id}" is used twice`);
      seen.add(item.id);
    });
  };
  unique(map.cabinets, 'cabinets');
  unique(map.buses, 'buses');
  unique(map.boards, 'boards');
  map.buses.forEach((bus, i) => {
    if (!!bus.path === !!bus.host) {
      throw new ConfigError(`hardware.map.buses[${i}]`, 'needs exactly one of path (serial port) or host (gateway)');
    }
    if (bus.host && !bus.port) throw new ConfigError(`hardware.map.buses[${i}].port`, 'is required with host');
  });
  const units = new Set<string>();
  map.boards.forEach((board, i) => {
    if (!map.buses.some((b) => b.id === board.bus)) {
      throw new ConfigError(`hardware.map.boards[${i}].bus`, `"${board.bus}" is not a configured bus`);
    }
    const key = `${board.bus}/${board.unitId}`;
    if (units.has(key)) throw new ConfigError(`hardware.map.boards[${i}].unitId`, `${board.unitId} is used twice on bus ${board.bus}`);
    units.add(key);
  });
  const numbers = new Set<number>();
  const channels = new Set<string>();
  const inputs = new Set<string>();
  map.trays.forEach((tray, i) => {
    if (numbers.has(tray.number)) throw new ConfigError(f(i, 'number'), `${tray.number} is used twice`);
    numbers.add(tray.number);
    if (!map.cabinets.some((c) => c.id === tray.cabinet)) {
      throw new ConfigError(f(i, 'cabinet'), `"${tray.cabinet}" is not a configured cabinet`);
    }
    if (driver === 'gpio') return;
    const board = map.boards.find((b) => b.id === tray.board);
    if (!board) throw new ConfigError(f(i, 'board'), `"${tray.board}" is not a configured board`);
    if (tray.lockChannel >= board.outputs) {
      throw new ConfigError(f(i, 'lockChannel'), `${tray.lockChannel} is beyond board ${board.id}'s ${board.outputs} outputs`);
    }
    if (tray.doorInput >= board.inputs) {
      throw new ConfigError(f(i, 'doorInput'), `${tray.doorInput} is beyond board ${board.id}'s ${board.inputs} inputs`);
    }
    const ch = `${board.id}/${tray.lockChannel}`;
    if (channels.has(ch)) throw new ConfigError(f(i, 'lockChannel'), `board ${board.id} channel ${tray.lockChannel} drives two trays`);
    channels.add(ch);
    const input = `${board.id}/${tray.doorInput}`;
    if (inputs.has(input)) throw new ConfigError(f(i, 'doorInput'), `board ${board.id} input ${tray.doorInput} reads two doors`);
    inputs.add(input);
  });
  if (driver === 'gpio') {
    if (!map.gpio?.length) throw new ConfigError('hardware.map.gpio', 'is required with the gpio driver');
    map.trays.forEach((tray, i) => {
      if (!map.gpio!.some((g) => g.tray === tray.number)) throw new ConfigError(f(i, 'number'), `tray ${tray.number} has no gpio wiring`);
    });
  }
}

export interface LoadOptions {
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Deep-merged over the file before the environment (tests). */
  overrides?: Record<string, unknown>;
}

function deepMerge(target: Record<string, any>, source: Record<string, any>): void {
  for (const [key, value] of Object.entries(source)) {
    if (value && typeof value === 'object' && !Array.isArray(value) && target[key] && typeof target[key] === 'object') {
      deepMerge(target[key], value);
    } else {
      target[key] = value;
    }
  }
}

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const file = path.resolve(options.file ?? env.CONFIG_FILE ?? DEFAULT_CONFIG_FILE);
  const raw = readYaml(file, 'CONFIG_FILE');
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('(root)', `${file} must hold a mapping`);
  const config = raw as Record<string, any>;
  if (options.overrides) deepMerge(config, options.overrides);
  // The environment first: HARDWARE decides which map file applies.
  applyEnv(config, env);
  const hardware = config.hardware;
  if (hardware && typeof hardware === 'object') {
    // With the gpio driver the GPIO cabinet map (pins, not boards) stands in for the board map
    // file; a map given inline is taken as it is.
    const gpioMap = hardware.driver === 'gpio' && typeof hardware.gpioMap === 'string' && typeof hardware.map === 'string';
    const map = gpioMap ? hardware.gpioMap : hardware.map;
    if (typeof map === 'string') {
      hardware.map = readYaml(path.resolve(path.dirname(file), map), gpioMap ? 'hardware.gpioMap' : 'hardware.map');
    }
  }
  if (!validate(config)) throw describeSchemaError();
  const result = config as unknown as Config;
  checkCabinetMap(result.hardware.map, result.hardware.driver);
  result.http.kioskClients.forEach((entry, i) => {
    const problem = addressEntryProblem(entry);
    if (problem) throw new ConfigError(`http.kioskClients[${i}]`, problem);
  });
  checkIdScanner(result);
  // A released latch must lock again before the controller concludes "never opened" (ADR 0012).
  if (result.hardware.driver === 'simulator' && result.hardware.simulator.latchHoldMs >= result.citizens.doorOpenTimeoutSec * 1000) {
    throw new ConfigError(
      'hardware.simulator.latchHoldMs',
      `(${result.hardware.simulator.latchHoldMs} ms) must be shorter than citizens.doorOpenTimeoutSec (${result.citizens.doorOpenTimeoutSec} s)`,
    );
  }
  return result;
}

/**
 * The citizen ID card scanner the daemon reads (docs/id-card.md): absent, `simulated` beside the
 * simulated cabinet and `none` otherwise; a serial one needs its port, a simulated one the
 * simulated cabinet (its card is presented through the simulator's API).
 */
function checkIdScanner(config: Config): void {
  const simulator = config.hardware.driver === 'simulator';
  config.idScanner ??= { kind: simulator ? 'simulated' : 'none' };
  const scanner = config.idScanner;
  if (scanner.kind === 'serial' && !scanner.path)
    throw new ConfigError('idScanner.path', 'is required with kind serial (e.g. /dev/ttyACM0)');
  if (scanner.kind === 'simulated' && !simulator) {
    throw new ConfigError('idScanner.kind', 'simulated needs the simulated cabinet (hardware.driver simulator): use serial or none');
  }
  scanner.baudRate ??= 9600;
}

/** For a command's entry point: the configuration, or its error on stderr and exit 78 (EX_CONFIG). */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(78);
    }
    throw err;
  }
}
