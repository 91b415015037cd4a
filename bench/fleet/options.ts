/** bench/fleet-load.ts's command line: `npm run bench:fleet -- [--lockers N] ...` parsed, or its usage printed. */

export interface Options {
  lockers: number;
  /** The traffic window, in seconds: one office day (7:30–17:00) compressed into it. */
  seconds: number;
  /** Deposits, result loads and pickups started per second over all lockers. */
  rate: number;
  /** Door events per second over all lockers. */
  doorRate: number;
  /** Configurations to run, one after the other: fleet instances in each. */
  instances: number[];
  /** How many of the day's rounds (8:00, 13:30, 16:00) the window holds: 3, or fewer to see the traffic without them. */
  rounds: number;
  /** The lockers connect spread over this many seconds. */
  rampSeconds: number;
  /** Keep the run directory (the fleet's logs) even when everything passed. */
  keep: boolean;
  /** Write a V8 CPU profile of each fleet instance into the run directory. */
  profile: boolean;
  quick: boolean;
}

const USAGE =
  'usage: npm run bench:fleet -- [--lockers 500] [--seconds 60] [--rate R] [--door-rate R] [--instances 1,2] ' +
  '[--rounds 3] [--ramp 30] [--quick] [--keep] [--profile]';

function usage(message?: string): never {
  if (message) console.error(message);
  console.error(USAGE);
  process.exit(2);
}

export function parseOptions(argv: string[]): Options {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) usage(`unexpected argument ${arg}`);
    const [name, inline] = arg.slice(2).split('=', 2);
    if (name === 'help') usage();
    if (['quick', 'keep', 'profile'].includes(name)) {
      flags.add(name);
      continue;
    }
    if (!['lockers', 'seconds', 'rate', 'door-rate', 'instances', 'rounds', 'ramp'].includes(name)) usage(`unknown option --${name}`);
    const value = inline ?? argv[++i];
    if (value === undefined) usage(`--${name} needs a value`);
    values.set(name, value);
  }
  const quick = flags.has('quick');
  const num = (name: string, dflt: number, min: number) => {
    const text = values.get(name);
    if (text === undefined) return dflt;
    const n = Number(text);
    if (!/^\d+(\.\d+)?$/.test(text) || n < min) usage(`--${name} must be a number of at least ${min}`);
    return n;
  };
  const lockers = Math.round(num('lockers', quick ? 50 : 500, 1));
  const seconds = num('seconds', quick ? 15 : 60, 5);
  // By default the window holds one office day of every locker: 7.5 flows (deposits, result loads
  // and pickups: 5–10 a day) and 2 door events each.
  const rate = num('rate', Math.round(((lockers * 7.5) / seconds) * 10) / 10, 0);
  const instances = (values.get('instances') ?? (quick ? '1' : '1,2')).split(',').map((s) => {
    if (!/^[1-9]$/.test(s.trim())) usage('--instances is a list of 1–9, e.g. 1,2');
    return Number(s);
  });
  return {
    lockers,
    seconds,
    rate,
    doorRate: num('door-rate', Math.round(((lockers * 2) / seconds) * 10) / 10, 0),
    instances,
    rounds: Math.min(3, Math.round(num('rounds', 3, 0))),
    rampSeconds: num('ramp', quick ? 2 : 30, 0),
    keep: flags.has('keep'),
    profile: flags.has('profile'),
    quick,
  };
}
