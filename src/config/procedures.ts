/** Loads and checks `config/procedures.yaml` (or PROCEDURES_FILE). Errors name the field. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv } from 'ajv';
import YAML from 'yaml';
import { TRAY_SIZES } from '../domain/cabinet.js';
import type { Procedure } from '../domain/procedures.js';
import { CONFIG_DIR, ConfigError } from './load.js';

const text = (max: number) => ({ type: 'string', minLength: 1, maxLength: max }) as const;
const bilingual = (max: number) =>
  ({ type: 'object', additionalProperties: false, required: ['vi', 'en'], properties: { vi: text(max), en: text(max) } }) as const;

const schema = {
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
          traySize: { enum: [...TRAY_SIZES] },
        },
      },
    },
  },
} as const;

const validate = new Ajv({ allErrors: false, strict: false }).compile(schema);

export function loadProcedures(file = process.env.PROCEDURES_FILE || path.join(CONFIG_DIR, 'procedures.yaml')): Procedure[] {
  let raw: unknown;
  try {
    raw = YAML.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError('procedures', `cannot be read from ${file}: ${(err as Error).message}`);
  }
  if (!validate(raw)) {
    const e = validate.errors![0];
    const where = e.instancePath.split('/').slice(1).map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s}`)).join('').replace(/^\./, '');
    const field = e.keyword === 'required' ? `${where}.${(e.params as any).missingProperty}`
      : e.keyword === 'additionalProperties' ? `${where}.${(e.params as any).additionalProperty}` : where;
    const message = e.keyword === 'enum' ? `must be one of ${(e.params as any).allowedValues.join(', ')}`
      : e.keyword === 'required' ? 'is required' : e.keyword === 'additionalProperties' ? 'is not a known field' : e.message;
    throw new ConfigError(field || 'procedures', message ?? 'is invalid');
  }
  const procedures = (raw as { procedures: Procedure[] }).procedures;
  const seen = new Set<string>();
  procedures.forEach((p, i) => {
    if (seen.has(p.code)) throw new ConfigError(`procedures[${i}].code`, `"${p.code}" is used twice`);
    seen.add(p.code);
    if (!p.deposit && !p.result) throw new ConfigError(`procedures[${i}]`, 'must have deposit or result true');
  });
  return procedures;
}
