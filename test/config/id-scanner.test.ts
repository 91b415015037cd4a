/** The optional `idScanner:` section (docs/id-card.md): its defaults and the errors that name the field. */
import t from 'tap';
import { loadConfig, ConfigError } from '../../src/config/load.js';

t.test('absent: simulated beside the simulated cabinet, none otherwise', async (t) => {
  t.same(loadConfig({ env: {} }).idScanner, { kind: 'simulated', baudRate: 9600 });
  t.same(loadConfig({ env: { HARDWARE: 'modbus' } }).idScanner, { kind: 'none', baudRate: 9600 });
});

t.test('a serial scanner from the file or the environment', async (t) => {
  t.same(loadConfig({ env: {}, overrides: { idScanner: { kind: 'serial', path: '/dev/ttyACM0', baudRate: 115200 } } }).idScanner, {
    kind: 'serial',
    path: '/dev/ttyACM0',
    baudRate: 115200,
  });
  t.same(loadConfig({ env: { HARDWARE: 'modbus', ID_SCANNER: 'serial', ID_SCANNER_PATH: '/dev/ttyUSB3' } }).idScanner, {
    kind: 'serial',
    path: '/dev/ttyUSB3',
    baudRate: 9600,
  });
});

t.test('wrong values stop with the field named', async (t) => {
  const cases: [Record<string, unknown>, Record<string, string>, RegExp][] = [
    [{ idScanner: { kind: 'usb' } }, {}, /idScanner\.kind must be one of none, serial, simulated/],
    [{ idScanner: { kind: 'serial' } }, {}, /idScanner\.path is required with kind serial/],
    [{ idScanner: { kind: 'serial', path: '/dev/x', baudRate: 1234 } }, {}, /idScanner\.baudRate must be one of/],
    [{ idScanner: { kind: 'serial', path: '/dev/x', parity: 'odd' } }, {}, /idScanner\.parity is not a known setting/],
    [{ idScanner: { kind: 'simulated' } }, { HARDWARE: 'modbus' }, /idScanner\.kind simulated needs the simulated cabinet/],
    [{ idScanner: { path: '/dev/x' } }, {}, /idScanner\.kind is required/],
  ];
  for (const [overrides, env, message] of cases) {
    t.throws(() => loadConfig({ env, overrides }), ConfigError, JSON.stringify(overrides));
    try {
      loadConfig({ env, overrides });
    } catch (err) {
      t.match((err as Error).message, message);
    }
  }
});
