/**
 * The monitoring files shipped in deploy/: the Prometheus alert rules and the Grafana dashboard
 * parse, and every series their queries read is one a running controller exposes (a rule on a
 * misspelt series would never fire; a panel on one would stay empty), with the labels they use.
 */
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { startTestLocker } from '../helpers/controller.js';
import { promqlSeriesNames, samplesOf, scraped, valueOf, type Exposition } from '../helpers/metrics.js';
import { until } from '../helpers/mqtt.js';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

/** Series Prometheus records itself for each scrape target: not on /metrics, always there. */
const PROMETHEUS_OWN = new Set(['up']);

/** The label names each series carries on /metrics (family names and a histogram's parts). */
function labelsBySeries(m: Exposition): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const s of m.samples) {
    const names = out.get(s.name) ?? new Set<string>();
    for (const key of Object.keys(s.labels)) if (key !== 'le' && key !== 'quantile') names.add(key);
    out.set(s.name, names);
  }
  for (const [family, type] of m.types) {
    if (type !== 'histogram') continue;
    const bucket = out.get(`${family}_bucket`) ?? out.get(`${family}_count`);
    if (bucket) out.set(family, bucket);
  }
  return out;
}

/** The label names an expression matches on or groups by, per series name, and in `by (...)`. */
function labelsUsed(expr: string): { matchers: [string, string][]; grouping: string[] } {
  const matchers: [string, string][] = [];
  for (const m of expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}/g)) {
    for (const [, key] of m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) matchers.push([m[1], key]);
  }
  const grouping: string[] = [];
  for (const m of expr.matchAll(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g)) {
    for (const key of m[1].split(',')) if (key.trim() && key.trim() !== 'le') grouping.push(key.trim());
  }
  return { matchers, grouping };
}

/** What is wrong with one expression against the scrape: unknown series, unknown labels. */
function problems(expr: string, m: Exposition): string[] {
  const found: string[] = [];
  const named = promqlSeriesNames(expr);
  if (!named.length) found.push(`names no series: ${expr}`);
  const series = named.filter((n) => !PROMETHEUS_OWN.has(n));
  for (const name of series) if (!m.names.has(name)) found.push(`${name} is not exposed`);
  const labels = labelsBySeries(m);
  const { matchers, grouping } = labelsUsed(expr);
  for (const [name, key] of matchers) {
    if (PROMETHEUS_OWN.has(name)) continue;
    if (!labels.get(name)?.has(key)) found.push(`${name} has no label ${key}`);
  }
  const offered = new Set(series.flatMap((n) => [...(labels.get(n) ?? [])]));
  for (const key of grouping) if (!offered.has(key)) found.push(`no series of "${expr.slice(0, 60)}…" has the label ${key}`);
  return found;
}

t.test('alert rules and dashboard against a running controller', async (t) => {
  const locker = await startTestLocker(t);
  // The request histogram has samples once a request was answered (the first scrape is one), and
  // the database's series once it answered a scrape in time (a loaded test machine may be slow).
  const m = await until(async () => {
    const x = scraped(await locker.anonymous.get('/metrics'));
    return valueOf(x, 'atm247_database_up') === 1 && samplesOf(x, 'atm247_http_request_duration_seconds_count').length ? x : null;
  }, 'a complete scrape');

  t.test('the checker itself finds a misspelt series and a missing label', async (t) => {
    t.same(promqlSeriesNames('sum by (locker, board) (rate(atm247_modbus_exchanges_total{outcome!="ok"}[10m])) > 0.05'), [
      'atm247_modbus_exchanges_total',
    ]);
    t.same(promqlSeriesNames('histogram_quantile(0.99, sum by (le) (rate(x_bucket{locker="$locker"}[$__rate_interval])))'), ['x_bucket']);
    t.same(problems('atm247_board_online == 0', m), []);
    t.match(problems('atm247_board_onlin == 0', m), ['atm247_board_onlin is not exposed']);
    t.match(problems('atm247_board_online{cabinet="A"} == 0', m), ['atm247_board_online has no label cabinet']);
    t.match(problems('sum by (gateway) (atm247_otp_issued_total)', m), [/has the label gateway/]);
  });

  t.test('deploy/prometheus/alerts.yml', async (t) => {
    const doc = parse(read('deploy/prometheus/alerts.yml'));
    const rules: any[] = doc.groups.flatMap((g: any) => g.rules);
    const names = rules.map((r) => r.alert);
    for (const wanted of ['Atm247BoardOffline', 'Atm247OutboxStuck', 'Atm247DoorHeldOpen', 'Atm247SmsFailing']) {
      t.ok(names.includes(wanted), `${wanted} is a rule`);
    }
    t.equal(new Set(names).size, names.length, 'alert names are unique');
    for (const rule of rules) {
      t.equal(typeof rule.expr, 'string', `${rule.alert}: an expression`);
      t.match(rule.for, /^\d+[smh]$/, `${rule.alert}: a duration`);
      t.ok(['warning', 'critical'].includes(rule.labels?.severity), `${rule.alert}: a severity`);
      t.equal(typeof rule.annotations?.summary, 'string', `${rule.alert}: a summary`);
      t.same(problems(rule.expr, m), [], `${rule.alert}: ${rule.expr.trim()}`);
      // A template may only name labels the expression's result carries.
      const templated = [...`${rule.annotations.summary} ${rule.annotations.description ?? ''}`.matchAll(/\$labels\.(\w+)/g)].map(
        (x) => x[1],
      );
      const series = promqlSeriesNames(rule.expr);
      const { grouping } = labelsUsed(rule.expr);
      const carried = new Set(
        grouping.length
          ? grouping
          : series.flatMap((n) => [...(labelsBySeries(m).get(n) ?? []), ...(n === 'up' ? ['instance', 'job'] : [])]),
      );
      for (const label of templated) t.ok(carried.has(label), `${rule.alert}: {{ $labels.${label} }} is carried by the result`);
    }
  });

  t.test('deploy/grafana/atm247.json', async (t) => {
    const dashboard = JSON.parse(read('deploy/grafana/atm247.json'));
    t.equal(dashboard.uid, 'atm247-locker');
    const panels: any[] = dashboard.panels.flatMap((p: any) => [p, ...(p.panels ?? [])]);
    const queries = panels.flatMap((p) => (p.targets ?? []).map((target: any) => ({ panel: p.title, expr: target.expr as string })));
    t.ok(queries.length >= 20, `${queries.length} queries`);
    for (const { panel, expr } of queries) t.same(problems(expr, m), [], `${panel}: ${expr}`);
    const covered = new Set(queries.flatMap((q) => promqlSeriesNames(q.expr)).map((n) => n.replace(/_(bucket|sum|count)$/, '')));
    for (const family of m.types.keys()) {
      if (!family.startsWith('atm247_')) continue;
      t.ok(covered.has(family), `${family} is on the dashboard`);
    }
    const lockerVariable = dashboard.templating.list.find((v: any) => v.name === 'locker');
    const [, series, label] = /label_values\((\w+),\s*(\w+)\)/.exec(lockerVariable.definition)!;
    t.ok(m.names.has(series), `the locker variable reads ${series}`);
    t.ok(labelsBySeries(m).get(series)?.has(label), `${series} carries ${label}`);
  });
});
