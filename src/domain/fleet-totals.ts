/**
 * The fleet's totals from its lockers' summaries: for the city, and per district. The fleet API
 * (`GET /api/fleet/totals`) and the fleet dashboard (over the lockers it shows) count the same way.
 * No schema library here: the dashboard bundles this file.
 */
import type { FleetLockerSummary, FleetTotals } from './api-fleet.js';
import type { PublishedTrayState } from './events.js';

type TrayCounts = Record<PublishedTrayState, number>;

export function fleetTotals(lockers: FleetLockerSummary[], states: readonly PublishedTrayState[]): FleetTotals {
  const zero = () => Object.fromEntries(states.map((s) => [s, 0])) as TrayCounts;
  const add = (into: TrayCounts, counts: FleetLockerSummary['counts']) => {
    for (const [state, n] of Object.entries(counts ?? {})) into[state as PublishedTrayState] = (into[state as PublishedTrayState] ?? 0) + n;
  };
  const trays = zero();
  const byDistrict = new Map<string | null, FleetTotals['byDistrict'][number]>();
  for (const l of lockers) {
    add(trays, l.counts);
    const key = l.site?.district ?? null;
    const d = byDistrict.get(key) ?? { district: key, lockers: 0, online: 0, alarms: 0, trays: zero() };
    d.lockers += 1;
    d.online += l.online === true ? 1 : 0;
    d.alarms += l.alarms;
    add(d.trays, l.counts);
    byDistrict.set(key, d);
  }
  return {
    lockers: lockers.length,
    online: lockers.filter((l) => l.online === true).length,
    offline: lockers.filter((l) => l.online === false).length,
    unknown: lockers.filter((l) => l.online === null).length,
    alarms: lockers.reduce((n, l) => n + l.alarms, 0),
    trays,
    // Districts by name, lockers of no registered district last.
    byDistrict: [...byDistrict.values()].sort((a, b) =>
      a.district === null ? 1 : b.district === null ? -1 : a.district.localeCompare(b.district, 'vi'),
    ),
  };
}
