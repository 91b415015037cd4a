/** JSON Schemas of the configuration files: the configuration (after the cabinet map is read in), the procedure catalogue and the calendar. */
import { BOARD_PROFILES, SERIAL_PARITIES, TRAY_ROLES, TRAY_SIZES } from '../domain/cabinet.js';
import { PICKUP_PROOFS } from '../domain/pickup-identity.js';

const id = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$' } as const;
const nullableString = { type: ['string', 'null'] } as const;
/** Codes sent: at most `count` in any `windowMin`; with `thenEveryMin`, one more every so often past it. */
const sendLimit = {
  type: 'object',
  additionalProperties: false,
  required: ['count', 'windowMin'],
  properties: {
    count: { type: 'integer', minimum: 1, maximum: 100_000 },
    windowMin: { type: 'integer', minimum: 1, maximum: 10_080 },
    thenEveryMin: { type: 'integer', minimum: 1, maximum: 1440 },
  },
} as const;
const ms = (min: number, max: number) => ({ type: 'integer', minimum: min, maximum: max }) as const;
/** Requests one client address may make in a window (http.rateLimits). */
const clientLimit = {
  type: 'object',
  additionalProperties: false,
  required: ['max', 'windowSec'],
  properties: { max: { type: 'integer', minimum: 1, maximum: 1_000_000 }, windowSec: { type: 'integer', minimum: 1, maximum: 86_400 } },
} as const;

const busSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'baudRate', 'timeoutMs', 'retries'],
  properties: {
    id,
    path: { type: 'string', minLength: 1 },
    host: { type: 'string', minLength: 1 },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    baudRate: { enum: [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200] },
    timeoutMs: ms(10, 10_000),
    retries: { type: 'integer', minimum: 0, maximum: 10 },
    // Character framing; absent: 8E1, the Modbus serial-line default (hardware/README.md).
    parity: { enum: [...SERIAL_PARITIES] },
    dataBits: { enum: [8] },
    stopBits: { enum: [1, 2] },
  },
} as const;

/** The lock power supplies and what one solenoid draws (ADR 0015). */
const powerSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['solenoidAmps', 'supplies'],
  properties: {
    solenoidAmps: { type: 'number', exclusiveMinimum: 0, maximum: 20 },
    supplies: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'amps'],
        properties: {
          id,
          amps: { type: 'number', exclusiveMinimum: 0, maximum: 200 },
          reserveAmps: { type: 'number', minimum: 0, maximum: 200 },
          boards: { type: 'array', minItems: 1, items: id },
        },
      },
    },
  },
} as const;

const boardSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'bus', 'unitId', 'profile', 'outputs', 'inputs'],
  properties: {
    id,
    bus: id,
    unitId: { type: 'integer', minimum: 1, maximum: 247 },
    profile: { enum: [...BOARD_PROFILES] },
    outputs: { type: 'integer', minimum: 1, maximum: 256 },
    inputs: { type: 'integer', minimum: 1, maximum: 256 },
    inputBase: { type: 'integer', minimum: 0, maximum: 65535 },
    outputBase: { type: 'integer', minimum: 0, maximum: 65535 },
  },
} as const;

const traySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['number', 'cabinet', 'board', 'lockChannel', 'doorInput', 'size', 'role'],
  properties: {
    number: { type: 'integer', minimum: 1, maximum: 999 },
    cabinet: id,
    board: id,
    lockChannel: { type: 'integer', minimum: 0, maximum: 255 },
    doorInput: { type: 'integer', minimum: 0, maximum: 255 },
    size: { enum: [...TRAY_SIZES] },
    role: { enum: [...TRAY_ROLES] },
  },
} as const;

const gpioTraySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['tray', 'lockPin', 'doorPin'],
  properties: {
    tray: { type: 'integer', minimum: 1 },
    lockPin: { type: 'integer', minimum: 0 },
    doorPin: { type: 'integer', minimum: 0 },
    doorActiveLow: { type: 'boolean' },
    lockActiveLow: { type: 'boolean' },
  },
} as const;

export const mapSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['cabinets', 'buses', 'boards', 'trays'],
  properties: {
    cabinets: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'name', 'columns'],
        properties: { id, name: { type: 'string' }, columns: { type: 'integer', minimum: 1, maximum: 50 } },
      },
    },
    buses: { type: 'array', items: busSchema },
    boards: { type: 'array', items: boardSchema },
    trays: { type: 'array', minItems: 1, maxItems: 999, items: traySchema },
    gpio: { type: 'array', items: gpioTraySchema },
  },
} as const;

export const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['locker', 'http', 'database', 'mqtt', 'hardware', 'sms', 'auth', 'staff', 'citizens', 'retention', 'payments', 'log'],
  properties: {
    locker: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'name', 'timezone'],
      properties: { id, name: { type: 'string', minLength: 1 }, timezone: { type: 'string', minLength: 1 } },
    },
    http: {
      type: 'object',
      additionalProperties: false,
      required: ['host', 'port', 'bodyLimit', 'kioskClients', 'rateLimits'],
      properties: {
        host: { type: 'string', minLength: 1 },
        port: { type: 'integer', minimum: 0, maximum: 65535 },
        bodyLimit: { type: 'integer', minimum: 1024, maximum: 10_485_760 },
        // Addresses or CIDR ranges; each is checked by loadConfig (addressEntryProblem).
        kioskClients: { type: 'array', maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 64 } },
        rateLimits: {
          type: 'object',
          additionalProperties: false,
          required: ['codeRequests', 'dossierLookup', 'signIn'],
          properties: { codeRequests: clientLimit, dossierLookup: clientLimit, signIn: clientLimit },
        },
      },
    },
    database: {
      type: 'object',
      additionalProperties: false,
      required: ['url', 'dataDir', 'poolSize'],
      properties: {
        url: { type: ['string', 'null'], pattern: '^postgres(ql)?://' },
        dataDir: { type: 'string', minLength: 1 },
        poolSize: { type: 'integer', minimum: 1, maximum: 100 },
        connectTimeoutMs: ms(100, 60_000),
        statementTimeoutMs: ms(100, 600_000),
        healthTimeoutMs: ms(100, 2_000),
      },
    },
    mqtt: {
      type: 'object',
      additionalProperties: false,
      required: ['url', 'embeddedPort', 'baseTopic', 'username', 'password', 'keepaliveSec', 'reconnectPeriodMs'],
      properties: {
        url: { type: ['string', 'null'], pattern: '^(mqtts?|wss?|tcp|tls)://' },
        embeddedPort: { type: 'integer', minimum: 0, maximum: 65535 },
        baseTopic: { type: 'string', minLength: 1, pattern: '^[^#+]+$' },
        username: nullableString,
        password: nullableString,
        keepaliveSec: { type: 'integer', minimum: 5, maximum: 3600 },
        reconnectPeriodMs: ms(100, 600_000),
        auditHeadSec: { type: 'integer', minimum: 1, maximum: 86_400 },
      },
    },
    hardware: {
      type: 'object',
      additionalProperties: false,
      required: [
        'driver',
        'pulseMs',
        'pulseSpacingMs',
        'scanIntervalMs',
        'debounceMs',
        'offlineAfterFailures',
        'offlineProbeMs',
        'reopenDelayMs',
        'simulator',
        'map',
      ],
      properties: {
        driver: { enum: ['simulator', 'modbus', 'gpio'] },
        pulseMs: ms(100, 5000),
        maxConcurrentPulses: { type: 'integer', minimum: 1, maximum: 16 },
        power: powerSchema,
        pulseSpacingMs: ms(0, 10_000),
        hotHoldMs: ms(1000, 3_600_000),
        scanIntervalMs: ms(0, 10_000),
        debounceMs: ms(0, 5000),
        offlineAfterFailures: { type: 'integer', minimum: 1, maximum: 100 },
        offlineProbeMs: ms(50, 60_000),
        watchGapMs: ms(100, 60_000),
        reopenDelayMs: ms(50, 600_000),
        simulator: {
          type: 'object',
          additionalProperties: false,
          required: ['paceWireTime', 'latchHoldMs'],
          properties: { paceWireTime: { type: 'boolean' }, latchHoldMs: ms(100, 3_600_000) },
        },
        map: mapSchema,
        // The cabinet map used instead of `map` with the gpio driver (a file beside this one).
        gpioMap: { type: 'string', minLength: 1 },
      },
    },
    sms: {
      type: 'object',
      additionalProperties: false,
      required: ['gateway', 'brand', 'accented', 'counter', 'http', 'smpp'],
      properties: {
        gateway: { enum: ['console', 'http', 'smpp'] },
        brand: { type: 'string', minLength: 1, maxLength: 11, pattern: '^[A-Za-z0-9 ._-]+$' },
        accented: { type: 'boolean' },
        counter: { type: 'string', minLength: 1, maxLength: 60 },
        http: {
          type: 'object',
          additionalProperties: false,
          required: [
            'method',
            'contentType',
            'headers',
            'bodyTemplate',
            'successPath',
            'successValue',
            'messageIdPath',
            'timeoutMs',
            'retries',
            'backoffMs',
          ],
          properties: {
            url: { type: 'string', pattern: '^https?://' },
            method: { enum: ['POST', 'GET'] },
            contentType: { enum: ['application/json', 'application/x-www-form-urlencoded'] },
            headers: { type: 'object', additionalProperties: { type: 'string' } },
            auth: nullableString,
            bodyTemplate: { type: 'string' },
            successPath: nullableString,
            successValue: nullableString,
            messageIdPath: nullableString,
            timeoutMs: ms(100, 60_000),
            retries: { type: 'integer', minimum: 0, maximum: 10 },
            backoffMs: ms(0, 60_000),
          },
        },
        smpp: {
          type: 'object',
          additionalProperties: false,
          required: ['port', 'systemType', 'enquireLinkMs', 'submitTimeoutMs', 'reconnectMs'],
          properties: {
            host: { type: 'string', minLength: 1 },
            port: { type: 'integer', minimum: 1, maximum: 65535 },
            systemId: { type: 'string', minLength: 1, maxLength: 15 },
            password: { type: 'string', maxLength: 8 },
            systemType: { type: 'string', maxLength: 13 },
            enquireLinkMs: ms(1000, 600_000),
            submitTimeoutMs: ms(100, 60_000),
            reconnectMs: ms(100, 600_000),
          },
        },
      },
      // The provider's address is needed only with the gateway that uses it ("sms.http.url is required").
      allOf: [
        { if: { properties: { gateway: { const: 'http' } } }, then: { properties: { http: { required: ['url'] } } } },
        { if: { properties: { gateway: { const: 'smpp' } } }, then: { properties: { smpp: { required: ['host', 'systemId'] } } } },
      ],
    },
    auth: {
      type: 'object',
      additionalProperties: false,
      required: ['adminToken', 'staffToken'],
      properties: {
        adminToken: { type: ['string', 'null'], minLength: 16 },
        staffToken: { type: ['string', 'null'], minLength: 16 },
        secretKey: { type: ['string', 'null'], minLength: 32 },
        secretKeyFile: { type: ['string', 'null'], minLength: 1 },
      },
    },
    staff: {
      type: 'object',
      additionalProperties: false,
      required: ['pickupWindowDays', 'reminderBeforeHours', 'roundLeadMin', 'tickMs'],
      properties: {
        pickupWindowDays: { type: 'integer', minimum: 1, maximum: 60 },
        reminderBeforeHours: { type: 'integer', minimum: 1, maximum: 240 },
        roundLeadMin: { type: 'integer', minimum: 0, maximum: 240 },
        tickMs: ms(100, 60_000),
      },
    },
    citizens: {
      type: 'object',
      additionalProperties: false,
      required: ['doorOpenTimeoutSec', 'doorHeldOpenSec', 'sweepMs', 'otp'],
      properties: {
        doorOpenTimeoutSec: { type: 'integer', minimum: 10, maximum: 600 },
        doorHeldOpenSec: { type: 'integer', minimum: 10, maximum: 3600 },
        sweepMs: ms(100, 60_000),
        otp: {
          type: 'object',
          additionalProperties: false,
          required: ['length', 'ttlSec', 'maxAttemptsPerCode', 'resendAfterSec', 'failuresBeforeSingleTry', 'perPhone', 'perLocker'],
          properties: {
            length: { type: 'integer', minimum: 6, maximum: 10 },
            ttlSec: { type: 'integer', minimum: 30, maximum: 1800 },
            maxAttemptsPerCode: { type: 'integer', minimum: 1, maximum: 10 },
            resendAfterSec: { type: 'integer', minimum: 10, maximum: 600 },
            failuresBeforeSingleTry: { type: 'integer', minimum: 1, maximum: 100 },
            perPhone: { type: 'array', minItems: 1, items: sendLimit },
            perLocker: { type: 'array', minItems: 1, items: sendLimit },
          },
        },
      },
    },
    retention: {
      type: 'object',
      additionalProperties: false,
      required: ['closedDossierDays', 'challengeDays', 'sentEventDays', 'auditPersonalDays', 'endedSessionDays', 'runAt'],
      properties: {
        closedDossierDays: { type: 'integer', minimum: 1, maximum: 3650 },
        challengeDays: { type: 'integer', minimum: 1, maximum: 365 },
        sentEventDays: { type: 'integer', minimum: 1, maximum: 365 },
        auditPersonalDays: { type: 'integer', minimum: 30, maximum: 3650 },
        endedSessionDays: { type: 'integer', minimum: 1, maximum: 365 },
        runAt: { type: ['string', 'null'], pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' },
      },
    },
    payments: {
      type: 'object',
      additionalProperties: false,
      required: ['provider', 'payWithinSec', 'publicUrl', 'account', 'webhookSecret', 'poll', 'receipts'],
      properties: {
        provider: { enum: ['auto', 'simulator', 'bank', 'none'] },
        payWithinSec: { type: 'integer', minimum: 60, maximum: 1800 },
        publicUrl: { type: ['string', 'null'], pattern: '^https?://[^\\s/]+(/[^\\s]*)?$' },
        account: {
          type: 'object',
          additionalProperties: false,
          required: ['bankBin', 'accountNumber', 'accountName'],
          properties: {
            bankBin: { type: 'string', pattern: '^[0-9]{6}$' },
            accountNumber: { type: 'string', pattern: '^[0-9A-Za-z]{1,19}$' },
            accountName: { type: 'string', minLength: 1, maxLength: 50 },
          },
        },
        webhookSecret: { type: ['string', 'null'], minLength: 32 },
        poll: {
          type: 'object',
          additionalProperties: false,
          required: ['url', 'token', 'intervalSec'],
          properties: {
            url: { type: ['string', 'null'], pattern: '^https?://' },
            token: { type: ['string', 'null'], minLength: 1 },
            intervalSec: { type: 'integer', minimum: 5, maximum: 3600 },
          },
        },
        receipts: {
          type: 'object',
          additionalProperties: false,
          required: ['issuer', 'template', 'series'],
          properties: {
            issuer: {
              type: 'object',
              additionalProperties: false,
              required: ['name', 'taxCode', 'address'],
              properties: {
                name: { type: 'string', minLength: 1, maxLength: 200 },
                taxCode: { type: 'string', pattern: '^[0-9]{10}(-[0-9]{3})?$' },
                address: { type: 'string', minLength: 1, maxLength: 300 },
              },
            },
            template: { type: 'string', pattern: '^[0-9A-Za-z/-]{1,20}$' },
            series: { type: 'string', pattern: '^[0-9A-Za-z/-]{1,20}$' },
            signingKeyFile: { type: ['string', 'null'], minLength: 1 },
          },
        },
      },
    },
    // Optional: absent means `simulated` beside the simulated cabinet, `none` otherwise (load.ts).
    idScanner: {
      type: 'object',
      additionalProperties: false,
      required: ['kind'],
      properties: {
        kind: { enum: ['none', 'serial', 'simulated'] },
        path: { type: ['string', 'null'], minLength: 1, maxLength: 200 },
        baudRate: { enum: [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200] },
      },
    },
    log: {
      type: 'object',
      additionalProperties: false,
      required: ['level'],
      properties: { level: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] } },
    },
  },
} as const;

/** Non-empty and not only blanks. */
const text = (max: number) => ({ type: 'string', minLength: 1, maxLength: max, pattern: '\\S' }) as const;
const bilingual = (max: number) =>
  ({ type: 'object', additionalProperties: false, required: ['vi', 'en'], properties: { vi: text(max), en: text(max) } }) as const;

/** JSON Schema of the procedure catalogue, `config/procedures.yaml`. */
export const proceduresSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['procedures'],
  properties: {
    procedures: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['code', 'field', 'name', 'short', 'deposit', 'result', 'fee', 'traySize'],
        properties: {
          code: { type: 'string', pattern: '^[A-Z0-9-]{2,20}$' },
          field: text(80),
          name: bilingual(300),
          short: bilingual(40),
          deposit: { type: 'boolean' },
          result: { type: 'boolean' },
          fee: { type: 'integer', minimum: 0, maximum: 100_000_000 },
          feeNote: text(300),
          payment: { enum: ['before', 'later'] },
          pickupProof: { enum: [...PICKUP_PROOFS] },
          traySize: { enum: [...TRAY_SIZES] },
          online: { type: 'boolean' },
        },
      },
    },
  },
} as const;

const calendarDay = {
  type: 'object',
  additionalProperties: false,
  required: ['date', 'name'],
  properties: { date: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' }, name: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;
/** JSON Schema of `config/calendar.yaml`. */
export const calendarSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['timezone', 'rounds', 'holidays', 'workdays'],
  properties: {
    timezone: { type: 'string', minLength: 1 },
    rounds: { type: 'array', minItems: 1, maxItems: 12, items: { type: 'string', pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' } },
    holidays: { type: 'array', items: calendarDay },
    workdays: { type: 'array', items: calendarDay },
  },
} as const;
