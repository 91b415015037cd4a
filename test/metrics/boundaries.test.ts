/**
 * The metrics room's import boundary (eslint.config.js): prom-client, the domain, the ports and
 * the config's types, never another adapter or a use case; and no other room reaches into it.
 */
import { ESLint } from 'eslint';
import t from 'tap';

const eslint = new ESLint({ cwd: new URL('../..', import.meta.url).pathname });

async function boundaryErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message);
}

t.test('the metrics import prom-client, the domain, the ports and config types only', async (t) => {
  t.same(
    await boundaryErrors(
      'src/metrics/example.ts',
      [
        "import { Gauge } from 'prom-client';",
        "import { DISPLAY_STATES } from '../domain/tray.js';",
        "import type { LockBus } from '../services/ports.js';",
        "import type { ChallengePurpose } from '../services/ports/citizens.js';",
        "import type { Config } from '../config/types.js';",
        'export type X = [LockBus, ChallengePurpose, Config, Gauge];',
        'void DISPLAY_STATES;',
        '',
      ].join('\n'),
    ),
    [],
  );
  for (const [what, line] of [
    ['the store', "import { TrayRepository } from '../store/trays.js';"],
    ['the events', "import { countPending } from '../events/outbox.js';"],
    ['HTTP', "import { requireRole } from '../http/auth.js';"],
    ['the hardware', "import { ModbusLockBus } from '../../hardware/modbus-bus.js';"],
    ['a use case', "import { TrayService } from '../services/trays.js';"],
    ['config loading', "import { loadConfig } from '../config/load.js';"],
    ['the composition root', "import { Controller } from '../controller.js';"],
  ]) {
    t.match(await boundaryErrors('src/metrics/example.ts', `${line}\nvoid 0;\n`), [/the metrics import only/], `not ${what}`);
  }
});

t.test('no use case or adapter imports the metrics', async (t) => {
  const line = "import { ControllerMetrics } from '../metrics/index.js';\nvoid ControllerMetrics;\n";
  t.match(await boundaryErrors('src/services/example.ts', line), [/use cases import only/]);
  t.match(await boundaryErrors('src/http/example.ts', line), [/HTTP drives the use cases/]);
  t.match(await boundaryErrors('src/store/example.ts', line), [/the store implements ports/]);
  t.match(await boundaryErrors('src/events/example.ts', line), [/an adapter implements ports/]);
  t.match(await boundaryErrors('hardware/example.ts', "import { BusMetrics } from '../src/metrics/bus.js';\nvoid BusMetrics;\n"), [
    /hardware room/,
  ]);
  t.same(await boundaryErrors('src/controller-example.ts', line.replace('../metrics', './metrics')), [], 'the composition root may');
});
