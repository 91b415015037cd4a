/** Loads and checks `config/calendar.yaml` (or CALENDAR_FILE). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseYaml } from './yaml-file.js';
import type { WorkCalendar } from '../domain/calendar.js';
import { CONFIG_DIR, ConfigError } from './load.js';
import { validateCalendar as validate } from './validators.js';

export function loadCalendar(file = process.env.CALENDAR_FILE || path.join(CONFIG_DIR, 'calendar.yaml')): WorkCalendar {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
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
