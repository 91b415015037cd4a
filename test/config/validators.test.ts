import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { ValidateFunction } from 'ajv';
import { BUNDLE_BANNER, standaloneValidators } from '../../src/bundle.js';
import { CONFIG_DIR, loadConfig } from '../../src/config/load.js';
import * as compiled from '../../src/config/validators.js';

const yaml = (name: string) => YAML.parse(readFileSync(path.join(CONFIG_DIR, name), 'utf8'));

t.test('the bundle’s validators, generated ahead of time, answer as the ones compiled at run time', async (t) => {
  // Written beside the package's node_modules: the generated code requires Ajv's run-time helpers.
  const dir = mkdtempSync(path.join(path.dirname(CONFIG_DIR), 'node_modules', '.atm247-validators-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'validators.mjs');
  writeFileSync(file, `${BUNDLE_BANNER}\n${standaloneValidators()}`);
  const generated: Record<keyof typeof compiled.VALIDATORS, ValidateFunction> = await import(file);

  const config = structuredClone(loadConfig({ env: {} })) as any;
  const procedures = yaml('procedures.yaml');
  const calendar = yaml('calendar.yaml');
  const cases: [keyof typeof compiled.VALIDATORS, string, unknown][] = [
    ['validateConfig', 'the default configuration', config],
    ['validateConfig', 'a port that is text', { ...config, http: { ...config.http, port: 'x' } }],
    ['validateConfig', 'an unknown setting', { ...config, hardware: { ...config.hardware, bogus: 1 } }],
    [
      'validateConfig',
      'a tray size out of the list',
      {
        ...config,
        hardware: { ...config.hardware, map: { ...config.hardware.map, trays: [{ ...config.hardware.map.trays[0], size: 'XL' }] } },
      },
    ],
    ['validateProcedures', 'the catalogue', procedures],
    ['validateProcedures', 'a code in lower case', { procedures: [{ ...procedures.procedures[0], code: 'abc' }] }],
    ['validateProcedures', 'a blank name', { procedures: [{ ...procedures.procedures[0], name: { vi: '  ', en: 'x' } }] }],
    ['validateCalendar', 'the calendar', calendar],
    ['validateCalendar', 'a round at 25:00', { ...calendar, rounds: ['25:00'] }],
    ['validateCalendar', 'a holiday without a name', { ...calendar, holidays: [{ date: '2026-01-01' }] }],
  ];
  for (const [name, what, value] of cases) {
    const atRunTime = compiled[name];
    const ahead = generated[name];
    const verdict = atRunTime(value);
    t.equal(ahead(value), verdict, `${name}, ${what}: ${verdict ? 'valid' : 'refused'} by both`);
    t.same(ahead.errors ?? null, atRunTime.errors ?? null, `${name}, ${what}: the same error`);
  }
  t.ok(compiled.validateConfig(config), 'the default configuration is valid');
  t.notOk(compiled.validateCalendar({ ...calendar, rounds: ['25:00'] }), 'a bad calendar is refused');
});
