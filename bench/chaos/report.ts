/**
 * The fault campaign's report: the tables (cycles, faults, invariants), the counts around them,
 * the stories behind anything broken (a 5xx, a false door alarm, an observation at a tray), and
 * the list of invariants broken, which decides the exit code.
 */
import type pg from 'pg';
import type { Logger } from 'pino';
import { CYCLE_KINDS, type CycleKind, type CycleStats, type Ctx } from './actors.js';
import type { Api } from './api.js';
import type { FinalReport } from './checks.js';
import type { CampaignDatabase } from './database.js';
import { FAULT_KINDS, type CampaignClock, type FaultLoop } from './faults.js';
import type { Options } from './options.js';
import type { DaemonSupervisor } from './supervisor.js';
import { duration } from './time.js';
import type { World } from './world.js';

function table(rows: (string | number)[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  const line = (r: (string | number)[]) =>
    `| ${r.map((v, c) => (typeof v === 'number' ? String(v).padStart(widths[c]) : String(v).padEnd(widths[c]))).join(' | ')} |`;
  return [line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

/** For a 5xx about a dossier code: what the records held for that code (the story behind it). */
export async function explainUnexpected5xx(pool: pg.Pool, lockerId: string, api: Api): Promise<void> {
  for (const odd of api.unexpected5xx) {
    if (!odd.dossierCode) continue;
    const { rows } = await pool
      .query(
        `SELECT d.kind, d.status, d.tray, array_agg(t.to_status ORDER BY t.id) AS path FROM dossiers d
         JOIN dossier_transitions t ON t.dossier_id = d.id WHERE d.locker_id = $1 AND d.code = upper($2)
        GROUP BY d.id, d.kind, d.status, d.tray, d.created_at ORDER BY d.created_at`,
        [lockerId, odd.dossierCode.replace(/^([0-9A-Z]{4})-([0-9A-Z]{5})$/i, '$1$2')],
      )
      .catch(() => ({ rows: [] as any[] }));
    odd.body += ` — records of ${odd.dossierCode}: ${rows.map((r: any) => `${r.kind} ${r.path.join('→')} (tray ${r.tray})`).join('; ') || 'none'}`;
  }
}

export function invariantsBroken(r: FinalReport): string[] {
  const out: string[] = [];
  if (r.lost) out.push(`${r.lost} dossier(s) lost`);
  if (r.doubleAssigned) out.push(`${r.doubleAssigned} tray(s) double-assigned`);
  if (r.eventsLost.length) out.push(`${r.eventsLost.length} event(s) lost`);
  if (r.outboxUnsent) out.push(`${r.outboxUnsent} outbox row(s) unsent`);
  if (r.coilsOn.length) out.push(`lock outputs left on: ${r.coilsOn.join(', ')}`);
  if (r.brokenChains.length) out.push(`${r.brokenChains.length} broken transition chain(s)`);
  if (r.leftInFlight.length) out.push(`${r.leftInFlight.length} dossier(s) left in flight`);
  if (r.leftToCheck.length) out.push(`${r.leftToCheck.length} tray(s) left to check`);
  if (r.disagreements.length) out.push(`${r.disagreements.length} dossier(s) whose paper is not where the records say`);
  // No door in the campaign is held open 10 s or opened without a release: every alarm is false.
  const alarms = Object.values(r.doorAlarms).reduce((a, b) => a + b, 0);
  if (alarms) out.push(`${alarms} false door alarm(s)`);
  return out;
}

export function printReport(p: {
  options: Options;
  startedMs: number;
  logger: Logger;
  report: FinalReport;
  clock: CampaignClock;
  runMs: number;
  quietMs: number;
  finalRounds: number;
  cycles: Record<CycleKind, CycleStats>;
  faults: FaultLoop;
  world: World;
  api: Api;
  daemon: DaemonSupervisor;
  duplicates: number;
  ctx: Ctx;
  db: CampaignDatabase;
  stoppedAtDeadline: boolean;
  finished: number;
}): void {
  const { report: r, cycles, faults, world, api, daemon, options, startedMs, logger } = p;
  const out: string[] = [];
  out.push('');
  out.push(
    `## Fault campaign: seed ${options.seed}, ${p.finished} cycles${p.stoppedAtDeadline ? ` (time limit; ${options.cycles} asked)` : ''}, ` +
      `concurrency ${options.concurrency}, database ${p.db.kind}`,
  );
  out.push('');
  out.push(
    `duration ${duration(p.runMs + p.quietMs)}: cycles ${duration(p.runMs)}, quiescent phase ${duration(p.quietMs)} (${p.finalRounds} last round(s))`,
  );
  out.push('');
  const cycleRows: (string | number)[][] = [['cycles', 'completed', 'abandoned', 'how they ended (most frequent)']];
  for (const kind of CYCLE_KINDS) {
    const c = cycles[kind];
    const reasons = Object.entries(c.reasons)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4)
      .map(([k, v]) => `${k} ${v}`)
      .join('; ');
    cycleRows.push([kind, c.completed, c.abandoned, reasons]);
  }
  cycleRows.push([
    'total',
    CYCLE_KINDS.reduce((s, k) => s + cycles[k].completed, 0),
    CYCLE_KINDS.reduce((s, k) => s + cycles[k].abandoned, 0),
    '',
  ]);
  out.push(table(cycleRows));
  out.push('');
  const faultRows: (string | number)[][] = [['fault', 'count']];
  for (const kind of FAULT_KINDS) faultRows.push([kind, faults.counts[kind]]);
  faultRows.push(['total', Object.values(faults.counts).reduce((a, b) => a + b, 0)]);
  out.push(table(faultRows));
  if (!p.db.canFault) out.push('database faults skipped: --db url (no control of the server process)');
  const inFault = Object.entries(world.doorMovesInFault)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  out.push(
    `door movements ${world.doorMoves}; during a fault: ${inFault || 'none'}; board faults asked for at a citizen's door ${faults.targeted.done} (of ${faults.targeted.asked})`,
  );
  out.push('');
  const toCheck =
    Object.entries(r.toCheckByKind)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  const totalToCheck = Object.values(r.toCheckByKind).reduce((a, b) => a + b, 0);
  const resolved =
    Object.entries(r.checkedByOutcome)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  const inv: (string | number)[][] = [['invariant', 'result']];
  inv.push(['dossiers lost (paper in a tray recorded free)', r.lost]);
  inv.push(['trays double-assigned', r.doubleAssigned]);
  inv.push([`events lost (of ${r.eventsInOutbox} in the outbox; ${p.duplicates} duplicates received)`, r.eventsLost.length]);
  inv.push(['outbox rows unsent at the end', r.outboxUnsent]);
  inv.push(['lock outputs left on', r.coilsOn.length]);
  inv.push(['dossiers with a broken transition chain', r.brokenChains.length]);
  inv.push(['dossiers left verified / tray_open / loading', r.leftInFlight.length]);
  inv.push(['trays left to check', r.leftToCheck.length]);
  inv.push(['dossiers whose paper is not where the records say', r.disagreements.length]);
  inv.push([`trays sent to check: ${toCheck}`, totalToCheck]);
  inv.push([`  resolved by the officer: ${resolved}`, Object.values(r.checkedByOutcome).reduce((a, b) => a + b, 0)]);
  inv.push(['door alarms (false: no door is held open or opened unreleased here)', Object.values(r.doorAlarms).reduce((a, b) => a + b, 0)]);
  inv.push(['5xx other than 503', api.unexpected5xx.length]);
  inv.push(['503 without a stable error code', api.bare503.length]);
  out.push(table(inv));
  out.push('');
  const errs = Object.entries(api.errors)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([k, v]) => `${k} ×${v}`)
    .join(', ');
  out.push(`HTTP: ${api.requests} requests; answers other than 2xx: ${errs || 'none'}`);
  out.push(
    `daemon: ${daemon.stats.starts} starts (${daemon.stats.kills} after a SIGKILL, ${daemon.stats.startFailures} failed while a fault was on), ` +
      `${daemon.stats.unexpectedExits.length} exits it was not asked for`,
  );
  if (Object.keys(r.doorAlarms).length) {
    // A wall-clock step starting or ending within 5 s of the alarm.
    const nearStep = r.doorAlarmList.filter((a) => {
      const atS = (a.atMs - startedMs) / 1000;
      return (
        faults.log.some(
          (e) =>
            e.label.startsWith('clock_') &&
            (Math.abs(e.startS - atS) <= 5 ||
              (e.endS !== null && Math.abs(e.endS - atS) <= 5) ||
              (e.startS <= atS && (e.endS ?? Infinity) >= atS)),
        ) || p.clock.advances.some((step) => Math.abs(step.atS - atS) <= 5)
      );
    }).length;
    out.push(
      `door alarms: ${Object.entries(r.doorAlarms)
        .map(([k, v]) => `${k} ${v}`)
        .join(
          ', ',
        )}; ${nearStep} of ${r.doorAlarmList.length} within 5 s of a wall-clock step (a fault's, or the clock moved on to a round)`,
    );
  }
  const answers = Object.entries(p.ctx.answers)
    .sort()
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  out.push(`officer answers: ${answers || 'none'}`);
  out.push(
    `records at the end: dossiers ${Object.entries(r.dossierStatuses)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}; ` +
      `trays ${Object.entries(r.trayStates)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
  );
  const otherFindings = world.findings.filter((f) => !['dossier lost', 'double-assigned'].includes(f.kind));
  if (otherFindings.length) {
    const byKind: Record<string, number> = {};
    for (const f of otherFindings) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
    out.push(
      `other observations: ${Object.entries(byKind)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    );
  }
  console.log(out.join('\n'));

  // The stories behind anything broken.
  const details: string[] = [];
  const list = (title: string, items: string[]) => {
    if (!items.length) return;
    details.push(`\n${title}:`);
    for (const item of items.slice(0, 20)) details.push(`  - ${item}`);
    if (items.length > 20) details.push(`  ... and ${items.length - 20} more`);
  };
  list(
    '5xx other than 503',
    api.unexpected5xx.map((e) => `${e.atS.toFixed(1)}s ${e.method} ${e.path} → ${e.status} ${e.body}`),
  );
  list(
    '503 without a stable error code',
    api.bare503.map((e) => `${e.atS.toFixed(1)}s ${e.method} ${e.path} → ${e.body}`),
  );
  list(
    'daemon exits it was not asked for (whole stderr in daemon.stderr)',
    daemon.stats.unexpectedExits.map(
      (e) =>
        `${((e.atMs - startedMs) / 1000).toFixed(1)}s code ${e.code} signal ${e.signal}: ${e.stderr.split('\n').slice(-3).join(' / ')}`,
    ),
  );
  list('events lost (outbox ids never received)', r.eventsLost);
  list('broken transition chains', r.brokenChains);
  list('dossiers left in flight', r.leftInFlight);
  list('trays left to check', r.leftToCheck);
  list('paper not where the records say', r.disagreements);
  list('lock outputs left on', r.coilsOn);
  // False door alarms: what was going on at that tray and in the locker at that moment.
  for (const alarm of r.doorAlarmList.slice(0, 6)) {
    const atS = (alarm.atMs - startedMs) / 1000;
    details.push(
      `\n${alarm.type} for tray ${alarm.tray} at ${atS.toFixed(1)}s (seed ${options.seed}): no door is held open 10 s or opened unreleased in the campaign`,
    );
    const active = faults.log.filter((e) => e.startS <= atS + 0.5 && (e.endS ?? Infinity) >= atS - 0.5).map((e) => e.label);
    details.push(`  faults at that moment: ${active.join(', ') || 'none'}`);
    for (const line of world
      .timeline(alarm.tray)
      .filter((l) => Math.abs(Number(l.trim().split('s')[0]) - atS) < 20)
      .slice(-8)) {
      details.push(`    ${line}`);
    }
  }
  if (r.doorAlarmList.length > 6) details.push(`\n(${r.doorAlarmList.length - 6} more door alarms)`);
  const shown = world.findings.filter((f) => f.kind !== 'recorded but not there' || options.verbose).slice(0, 12);
  for (const f of shown) {
    details.push(`\n${f.kind} — tray ${f.tray} at ${f.atS.toFixed(1)}s (seed ${options.seed}): ${f.detail}`);
    details.push('  tray timeline (campaign side):');
    for (const line of f.timeline.slice(-25)) details.push(`    ${line}`);
    const from = Number(f.timeline.at(-25)?.trim().split('s')[0] ?? 0);
    const overlapping = faults.log.filter((e) => (e.endS ?? Infinity) >= from - 5 && e.startS <= f.atS);
    if (overlapping.length) {
      details.push('  faults around it:');
      for (const e of overlapping.slice(-15))
        details.push(`    ${e.startS.toFixed(1)}s–${e.endS === null ? '…' : `${e.endS.toFixed(1)}s`} ${e.label}`);
    }
  }
  if (world.findings.length > shown.length) details.push(`\n(${world.findings.length - shown.length} more observations in campaign.log)`);
  for (const f of world.findings) logger.warn({ finding: f }, 'finding');
  if (details.length) console.log(details.join('\n'));
}
