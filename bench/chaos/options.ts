/** The fault campaign's command line: `npm run chaos -- [--cycles N] [--seed S] ...` parsed, or its usage printed. */
import { FAULT_KINDS, type FaultKind } from './faults.js';
import { parseSeed } from './rng.js';

export interface Options {
  cycles: number;
  seed: number;
  concurrency: number;
  db: 'embedded' | 'url';
  maxMinutes: number;
  keep: boolean;
  verbose: boolean;
  /** Only these fault kinds (all by default). */
  faults: FaultKind[] | undefined;
}

function usage(message?: string): never {
  if (message) console.error(message);
  console.error(
    'usage: npm run chaos -- [--cycles N] [--seed S] [--concurrency C] [--db embedded|url] [--max-minutes M] [--faults k1,k2] [--keep] [--verbose]',
  );
  process.exit(2);
}

export function parseOptions(argv: string[]): Options {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) usage(`unexpected argument ${arg}`);
    const [name, inline] = arg.slice(2).split('=', 2);
    if (name === 'keep' || name === 'verbose') {
      flags.add(name);
      continue;
    }
    if (name === 'help') usage();
    const value = inline ?? argv[++i];
    if (value === undefined) usage(`--${name} needs a value`);
    values.set(name, value);
  }
  for (const name of values.keys()) {
    if (!['cycles', 'seed', 'concurrency', 'db', 'max-minutes', 'faults'].includes(name)) usage(`unknown option --${name}`);
  }
  const int = (name: string, dflt: number, min: number) => {
    const text = values.get(name);
    if (text === undefined) return dflt;
    if (!/^\d+$/.test(text) || Number(text) < min) usage(`--${name} must be an integer of at least ${min}`);
    return Number(text);
  };
  const db = values.get('db') ?? 'embedded';
  if (db !== 'embedded' && db !== 'url') usage('--db is embedded or url');
  const cycles = int('cycles', 1000, 1);
  const faults = values
    .get('faults')
    ?.split(',')
    .map((f) => f.trim()) as FaultKind[] | undefined;
  for (const f of faults ?? []) if (!FAULT_KINDS.includes(f)) usage(`--faults: unknown kind ${f}; one of ${FAULT_KINDS.join(', ')}`);
  return {
    cycles,
    seed: parseSeed(values.get('seed')),
    concurrency: int('concurrency', 6, 1),
    db,
    // Generous: about 1.7 s a cycle was measured at concurrency 6 on a 2-core machine.
    maxMinutes: int('max-minutes', Math.ceil(5 + cycles * 0.05), 1),
    keep: flags.has('keep'),
    verbose: flags.has('verbose'),
    faults,
  };
}
