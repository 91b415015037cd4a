/**
 * Loads and checks the procedure catalogue, `config/procedures.yaml` (or PROCEDURES_FILE).
 * A wrong entry stops the start with a ConfigError naming the field, e.g.
 * `procedures[12].traySize must be one of S, M, L`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseYaml } from './yaml-file.js';
import type { Procedure } from '../domain/procedures.js';
import type { ProcedureCatalogue } from '../services/ports.js';
import { CONFIG_DIR, ConfigError } from './load.js';
import { validateProcedures as validate } from './validators.js';

export const DEFAULT_PROCEDURES_FILE = path.join(CONFIG_DIR, 'procedures.yaml');

/** Text typed with a combining-accent keyboard (NFD) is stored composed, so lengths, sorting and lookups agree. */
function composed(value: unknown): unknown {
  if (typeof value === 'string') return value.normalize('NFC');
  if (Array.isArray(value)) return value.map(composed);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, composed(v)]));
  }
  return value;
}

function describeError(): ConfigError {
  const e = validate.errors![0];
  const where = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => (/^\d+$/.test(s) ? `[${s}]` : `.${s}`))
    .join('')
    .replace(/^\./, '');
  const params = e.params as Record<string, any>;
  switch (e.keyword) {
    case 'required':
      return new ConfigError(`${where ? where + '.' : ''}${params.missingProperty}`, 'is required');
    case 'additionalProperties':
      return new ConfigError(`${where ? where + '.' : ''}${params.additionalProperty}`, 'is not a known field');
    case 'enum':
      return new ConfigError(where, `must be one of ${params.allowedValues.join(', ')}`);
    case 'pattern':
      return where.endsWith('.code')
        ? new ConfigError(where, 'must be 2 to 20 upper-case letters, digits or "-"')
        : new ConfigError(where, 'must not be blank');
    case 'type':
      return where
        ? new ConfigError(where, e.message ?? 'is invalid')
        : new ConfigError('procedures', 'file must hold a mapping with a procedures list');
    default:
      return new ConfigError(where || 'procedures', e.message ?? 'is invalid');
  }
}

/** Reads the catalogue; `file` defaults to PROCEDURES_FILE, then `config/procedures.yaml`. */
export function loadProcedures(file?: string): Procedure[] {
  const source = path.resolve(file ?? (process.env.PROCEDURES_FILE || DEFAULT_PROCEDURES_FILE));
  let raw: unknown;
  try {
    raw = composed(parseYaml(readFileSync(source, 'utf8')));
  } catch (err) {
    throw new ConfigError('procedures', `cannot be read from ${source}: ${(err as Error).message}`);
  }
  if (!validate(raw)) throw describeError();
  const procedures = (raw as { procedures: Procedure[] }).procedures;
  const seen = new Map<string, number>();
  procedures.forEach((p, i) => {
    const first = seen.get(p.code);
    if (first !== undefined) throw new ConfigError(`procedures[${i}].code`, `"${p.code}" is used twice (also procedures[${first}])`);
    seen.set(p.code, i);
    if (!p.deposit && !p.result) throw new ConfigError(`procedures[${i}]`, 'must have deposit or result true');
    if (p.payment && p.fee === 0) throw new ConfigError(`procedures[${i}].payment`, 'is for a procedure with a fee (fee is 0)');
    if (p.payment === 'before' && p.fee > 500_000_000)
      throw new ConfigError(`procedures[${i}].fee`, 'is above what one VietQR transfer carries (500,000,000)');
    // Dossiers filed online (ADR 0029): one entry, received only, their fees paid online.
    if (p.online) {
      const other = procedures.findIndex((o) => o.online);
      if (other !== i) throw new ConfigError(`procedures[${i}].online`, `is set on one entry only (also procedures[${other}])`);
      if (!p.deposit || p.result) throw new ConfigError(`procedures[${i}].online`, 'is for an entry with deposit true and result false');
      if (p.fee !== 0) throw new ConfigError(`procedures[${i}].fee`, 'must be 0 for dossiers filed online (their fees are paid online)');
    }
    if (p.pickupProof && !p.result)
      throw new ConfigError(`procedures[${i}].pickupProof`, 'is for a procedure whose results return (result is false)');
  });
  return procedures;
}

/** The catalogue as the flows look procedures up (`ProcedureCatalogue`). */
export function procedureCatalogue(procedures: Procedure[]): ProcedureCatalogue {
  const byCode = new Map(procedures.map((p) => [p.code, p]));
  return {
    find: (code) => {
      const p = byCode.get(code);
      return p
        ? {
            code: p.code,
            deposit: p.deposit,
            result: p.result,
            traySize: p.traySize,
            fee: p.fee,
            ...(p.payment ? { payment: p.payment } : {}),
            ...(p.pickupProof ? { pickupProof: p.pickupProof } : {}),
            ...(p.online ? { online: true } : {}),
            shortVi: p.short.vi,
            nameVi: p.name.vi,
          }
        : null;
    },
    onlineEntry() {
      const p = procedures.find((x) => x.online);
      return p ? this.find(p.code) : null;
    },
  };
}
