/**
 * The rooms' import boundaries (eslint.config.js) hold: a deliberate violation in each room is
 * refused by the real ESLint configuration, and the lawful imports beside it are not.
 */
import { ESLint } from 'eslint';
import t from 'tap';

const eslint = new ESLint({ cwd: new URL('../..', import.meta.url).pathname });

async function boundaryErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message);
}

t.test('the domain imports nothing of the project', async (t) => {
  t.match(await boundaryErrors('src/domain/example.ts', "import { createDb } from '../store/db.js';\nvoid createDb;\n"), [
    /src\/domain imports nothing/,
  ]);
  t.match(
    await boundaryErrors('src/domain/example.ts', "import type { LockBus } from '../services/ports.js';\nexport type X = LockBus;\n"),
    [/src\/domain/],
  );
  t.same(await boundaryErrors('src/domain/example.ts', "import { TRAY_SIZES } from './cabinet.js';\nvoid TRAY_SIZES;\n"), []);
});

t.test('use cases import the domain and their ports, not the adapters', async (t) => {
  t.match(await boundaryErrors('src/services/example.ts', "import { TrayRepository } from '../store/trays.js';\nvoid TrayRepository;\n"), [
    /use cases import only/,
  ]);
  t.match(await boundaryErrors('src/services/example.ts', "import { enqueueEvent } from '../events/outbox.js';\nvoid enqueueEvent;\n"), [
    /use cases import only/,
  ]);
  t.same(
    await boundaryErrors(
      'src/services/example.ts',
      "import type { TrayStore } from './ports.js';\nimport { displayCode } from '../domain/dossier-code.js';\nexport type X = TrayStore;\nvoid displayCode;\n",
    ),
    [],
  );
});

t.test('the screens import no server code, only the domain and shared types', async (t) => {
  t.match(
    await boundaryErrors('src/ui/kiosk/example.ts', "import { DepositService } from '../../services/deposits.js';\nvoid DepositService;\n"),
    [/the screens import no server code/],
  );
  t.match(await boundaryErrors('src/ui/kiosk/example.ts', "import { readFileSync } from 'node:fs';\nvoid readFileSync;\n"), [/browser/]);
  t.same(
    await boundaryErrors(
      'src/ui/kiosk/example.ts',
      "import type { DashboardStats } from '../../services/stats.js';\nimport { DOSSIER_ALPHABET } from '../../domain/dossier-code.js';\nexport type X = DashboardStats;\nvoid DOSSIER_ALPHABET;\n",
    ),
    [],
  );
});

t.test('adapters do not reach each other', async (t) => {
  t.match(await boundaryErrors('src/http/example.ts', "import { createDb } from '../store/db.js';\nvoid createDb;\n"), [
    /HTTP drives the use cases/,
  ]);
  t.match(await boundaryErrors('hardware/example.ts', "import { EventsUnit } from '../src/events/index.js';\nvoid EventsUnit;\n"), [
    /hardware room/,
  ]);
  t.match(await boundaryErrors('src/store/example.ts', "import { MqttLink } from '../events/mqtt-link.js';\nvoid MqttLink;\n"), [
    /the store implements ports/,
  ]);
});

t.test('the fleet shares the domain and the topic contract, none of the locker’s adapters', async (t) => {
  t.match(await boundaryErrors('src/fleet/example.ts', "import { createDb } from '../store/db.js';\nvoid createDb;\n"), [
    /the fleet imports/,
  ]);
  t.match(await boundaryErrors('src/fleet/example.ts', "import { EventsUnit } from '../events/index.js';\nvoid EventsUnit;\n"), [
    /the fleet imports/,
  ]);
  // The screens' file route only, no other route or the HTTP composition.
  t.match(await boundaryErrors('src/fleet/example.ts', "import { adminRoutes } from '../http/routes/admin.js';\nvoid adminRoutes;\n"), [
    /the fleet imports/,
  ]);
  t.match(await boundaryErrors('src/fleet/example.ts', "import { sendError } from '../http/errors.js';\nvoid sendError;\n"), [
    /the fleet imports/,
  ]);
  t.same(await boundaryErrors('src/fleet/example.ts', "import { uiRoutes } from '../http/routes/ui.js';\nvoid uiRoutes;\n"), []);
  t.same(
    await boundaryErrors(
      'src/fleet/example.ts',
      "import { lockerBase } from '../events/topics.js';\nimport { AppError } from '../domain/errors.js';\nvoid lockerBase;\nvoid AppError;\n",
    ),
    [],
  );
});
