import t from 'tap';
import { loadConfig, ConfigError } from '../../src/config/load.js';

t.test('the default configuration loads with the 90-tray map', async (t) => {
  const config = loadConfig({ env: {} });
  t.equal(config.hardware.map.trays.length, 90);
  t.equal(config.hardware.map.boards.length, 6);
  t.equal(config.hardware.driver, 'simulator');
  t.equal(config.database.url, null);
  t.equal(config.mqtt.url, null);
  t.equal(config.http.port, 8080);
  t.equal(config.locker.id, 'atm247-demo');
});

t.test('environment variables override the file', async (t) => {
  const config = loadConfig({
    env: {
      PORT: '9090',
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgres://u@db/x',
      MQTT_URL: 'mqtt://b:1883',
      MQTT_EMBEDDED_PORT: '1999',
      HARDWARE: 'modbus',
      SMS_GATEWAY: 'http',
      SMS_HTTP_URL: 'https://sms.example/send',
      LOCKER_ID: 'q6-1',
      DATA_DIR: '/data',
      ATM247_ADMIN_TOKEN: 'a'.repeat(20),
    },
  });
  t.match(config, {
    http: { port: 9090, host: '0.0.0.0' },
    database: { url: 'postgres://u@db/x', dataDir: '/data' },
    mqtt: { url: 'mqtt://b:1883', embeddedPort: 1999 },
    hardware: { driver: 'modbus' },
    sms: { gateway: 'http' },
    locker: { id: 'q6-1' },
    auth: { adminToken: 'a'.repeat(20) },
  });
});

t.test('a wrong value stops the start with a message naming the field', async (t) => {
  const cases: [string, Parameters<typeof loadConfig>[0], string | RegExp][] = [
    ['PORT not a number', { env: { PORT: 'eighty' } }, /http\.port \(from PORT\)/],
    ['unknown driver', { env: { HARDWARE: 'usb' } }, /hardware\.driver must be one of simulator, modbus, gpio/],
    ['short token', { env: { ATM247_STAFF_TOKEN: 'abc' } }, /auth\.staffToken/],
    ['bad database url', { env: { DATABASE_URL: 'mysql://x' } }, /database\.url/],
    ['pulse too short', { env: {}, overrides: { hardware: { pulseMs: 5 } } }, /hardware\.pulseMs must be >= 100/],
    ['unknown setting', { env: {}, overrides: { http: { prot: 1 } } }, /http\.prot is not a known setting/],
    ['missing section', { env: {}, overrides: { log: null } }, /log/],
    ['http gateway without url', { env: { SMS_GATEWAY: 'http' } }, /sms\.http\.url is required/],
    ['smpp gateway without host', { env: { SMS_GATEWAY: 'smpp' } }, /sms\.smpp\.host is required/],
    ['brand too long', { env: {}, overrides: { sms: { brand: 'UBND-QUAN-6-TPHCM' } } }, /sms\.brand/],
  ];
  for (const [name, options, message] of cases) {
    t.throws(() => loadConfig(options), message instanceof RegExp ? { message } : { message }, name);
  }
});

t.test('cabinet map cross-references are checked', async (t) => {
  const base = loadConfig({ env: {} }).hardware.map;
  const clone = () => structuredClone(base);
  const cases: [string, (m: typeof base) => void, RegExp][] = [
    [
      'tray on an unknown board',
      (m) => {
        m.trays[36].board = 'zz';
      },
      /trays\[36\]\.board "zz" is not a configured board/,
    ],
    [
      'channel beyond the board',
      (m) => {
        m.trays[36].lockChannel = 16;
      },
      /trays\[36\]\.lockChannel 16 is beyond board b1/,
    ],
    [
      'two trays on one channel',
      (m) => {
        m.trays[37].lockChannel = 6;
      },
      /trays\[37\]\.lockChannel board b1 channel 6 drives two trays/,
    ],
    [
      'duplicate tray number',
      (m) => {
        m.trays[1].number = 1;
      },
      /trays\[1\]\.number 1 is used twice/,
    ],
    [
      'duplicate unit id',
      (m) => {
        m.boards[1].unitId = 1;
      },
      /boards\[1\]\.unitId 1 is used twice/,
    ],
    [
      'bus with path and host',
      (m) => {
        m.buses[0].host = 'gw';
        m.buses[0].port = 502;
      },
      /buses\[0\] needs exactly one of path/,
    ],
    [
      'unknown size',
      (m) => {
        (m.trays[0] as any).size = 'XL';
      },
      /trays\[0\]\.size must be one of S, M, L/,
    ],
  ];
  for (const [name, mutate, message] of cases) {
    const map = clone();
    mutate(map);
    const err = t.throws(() => loadConfig({ env: {}, overrides: { hardware: { map } } }), name) as unknown;
    t.ok(err instanceof ConfigError, `${name}: a ConfigError`);
    t.match((err as Error).message, message, name);
  }
});

t.test('a simulated latch that stays released past the door-open timeout is refused', async (t) => {
  t.throws(() => loadConfig({ env: {}, overrides: { hardware: { simulator: { latchHoldMs: 60_000 } } } }), {
    message: /hardware\.simulator\.latchHoldMs .*must be shorter than citizens\.doorOpenTimeoutSec/,
  });
  t.ok(loadConfig({ env: {}, overrides: { hardware: { simulator: { latchHoldMs: 59_000 } } } }));
});

t.test('retention: the defaults, a wrong value refused, and the code sends kept as long as a send cap looks back', async (t) => {
  const { durations } = await import('../../src/config/durations.js');
  const config = loadConfig({ env: {} });
  t.same(config.retention, {
    closedDossierDays: 90,
    challengeDays: 1,
    sentEventDays: 7,
    auditPersonalDays: 365,
    endedSessionDays: 7,
    runAt: '03:00',
  });
  const DAY = 86_400_000;
  t.match(durations(config).retention, {
    closedDossierMs: 90 * DAY,
    challengeMs: DAY,
    otpSendMs: DAY,
    sentEventMs: 7 * DAY,
    runAt: '03:00',
    timezone: 'Asia/Ho_Chi_Minh',
  });
  const weekCap = loadConfig({ env: {}, overrides: { citizens: { otp: { perPhone: [{ count: 20, windowMin: 10_080 }] } } } });
  t.equal(durations(weekCap).retention.otpSendMs, 7 * DAY, 'a week-long cap keeps a week of sends');
  t.equal(loadConfig({ env: {}, overrides: { retention: { runAt: null } } }).retention.runAt, null, 'null: every 24 h');
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ runAt: '25:00' }, /retention\.runAt/],
    [{ runAt: '3:00' }, /retention\.runAt/],
    [{ closedDossierDays: 0 }, /retention\.closedDossierDays must be >= 1/],
    [{ sentEventDays: 1.5 }, /retention\.sentEventDays must be integer/],
    [{ keepForever: true }, /retention\.keepForever is not a known setting/],
  ];
  for (const [retention, message] of cases) t.throws(() => loadConfig({ env: {}, overrides: { retention } }), { message }, message.source);
});
