/** Loads and checks `config/calendar.yaml` (or CALENDAR_FILE). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import YAML from 'yaml';
import type { WorkCalendar } from '../domain/calendar.js';
import { CONFIG_DIR, ConfigError } from './load.js';

const day = {
  type: 'object',
  additionalProperties: false,
  required: ['date', 'name'],
  properties: { date: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' }, name: { type: 'string', minLength: 1, maxLength: 200 } },
} as const;
const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['timezone', 'rounds', 'holidays', 'workdays'],
  properties: {
    timezone: { type: 'string', minLength: 1 },
    rounds: { type: 'array', minItems: 1, maxItems: 12, items: { type: 'string', pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' } },
    holidays: { type: 'array', items: day },
    workdays: { type: 'array', items: day },
  },
} as const;
const validate = new Ajv({ strict: false }).compile(schema);

export function loadCalendar(file = process.env.CALENDAR_FILE || path.join(CONFIG_DIR, 'calendar.yaml')): WorkCalendar {
  let raw: unknown;
  try {
    raw = YAML.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError('calendar', `cannot be read from ${file}: ${(err as Error).message}`);
  }
  if (!validate(raw)) {
    const e = validate.errors![0];
    const field = e.instancePath
      .split('/')
      .slice(1)
      .map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s}`))
      .join('');
    throw new ConfigError(`calendar${field}`, e.message ?? 'is invalid');
  }
  const calendar = raw as WorkCalendar;
  try {
    new Intl.DateTimeFormat('en', { timeZone: calendar.timezone });
  } catch {
    throw new ConfigError('calendar.timezone', `"${calendar.timezone}" is not a known time zone`);
  }
  for (const [list, name] of [
    [calendar.holidays, 'holidays'],
    [calendar.workdays, 'workdays'],
  ] as const) {
    list.forEach((d, i) => {
      if (Number.isNaN(Date.parse(`${d.date}T00:00:00Z`)) || new Date(`${d.date}T00:00:00Z`).toISOString().slice(0, 10) !== d.date) {
        throw new ConfigError(`calendar.${name}[${i}].date`, `"${d.date}" is not a date`);
      }
    });
  }
  calendar.rounds = [...calendar.rounds].sort();
  return calendar;
}
