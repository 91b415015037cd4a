/**
 * The fleet dashboard (served by the fleet service at `/`): every locker of the city, live over
 * server-sent events; totals for the city and per district; filters by district and ward; one
 * locker's grid drawn as its cabinet's /admin draws it, with its alarms and latest events; the
 * figures of a period and their CSV for the district's report.
 */
import '../shared/base.css';
import '../admin/admin.css';
import './fleet.css';
import { render } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { FleetFigures, FleetLockerDetail, FleetLockerSummary } from '../../domain/api-fleet.js';
import type { PublishedTrayState } from '../../domain/events.js';
import { fleetTotals } from '../../domain/fleet-totals.js';
import { api, ApiError } from '../shared/api.js';
import { formatDateTime, formatTime } from '../shared/format.js';
import { html } from '../shared/html.js';
import { TokenScreen } from '../shared/token-screen.js';
import { Cabinets, STATE_NAMES } from '../admin/cabinets.js';
import { Alarms } from '../admin/figures.js';

const TOKEN_KEY = 'atm247.fleet.token';
const STATES = Object.keys(STATE_NAMES) as PublishedTrayState[];

function App() {
  return html`<${TokenScreen}
    tokenKey=${TOKEN_KEY}
    heading="ATM 24/7 · Toàn bộ tủ hồ sơ"
    signInTitle="Đăng nhập (quản trị quận / thành phố)"
    check="/api/fleet/totals"
    render=${(token: string, signOut: () => void) => html`<${Fleet} token=${token} onUnauthorized=${signOut} />`}
  />`;
}

type Link = 'connecting' | 'live' | 'lost';

const lockerName = (l: FleetLockerSummary) => l.site?.name ?? l.lockerId;

function Status({ online }: { online: boolean | null }) {
  return online === true
    ? html`<span class="status status-online">Trực tuyến</span>`
    : online === false
      ? html`<span class="status status-offline">Mất kết nối</span>`
      : html`<span class="status status-unknown">Chưa kết nối</span>`;
}

/** How long after a lost stream it is opened again (with a new ticket). */
const REOPEN_MS = 2_000;

const roundText = (r: FleetLockerSummary['nextRound']) =>
  r ? `${formatTime(r.scheduledAt)} · thu ${r.collect} · trả ${r.takeBack} · kiểm tra ${r.check}` : '–';

function Fleet({ token, onUnauthorized }: { token: string; onUnauthorized: () => void }) {
  const [lockers, setLockers] = useState<Map<string, FleetLockerSummary>>(new Map());
  const [link, setLink] = useState<Link>('connecting');
  const [updatedAt, setUpdatedAt] = useState<Date | null>(null);
  const [district, setDistrict] = useState('');
  const [ward, setWard] = useState('');
  const [selected, setSelected] = useState<string | null>(null);
  const [changed, setChanged] = useState<{ ids: Set<string> | null; n: number }>({ ids: null, n: 0 });

  useEffect(() => {
    // The stream is opened with a ticket asked for with the token (the token never in a URL). The
    // browser reconnects by itself with the same ticket; once that is refused (it is good for a
    // minute), the stream closes and is opened again with a new one.
    let source: EventSource | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let done = false;
    const again = () => {
      setLink('lost');
      timer = setTimeout(() => void open(), REOPEN_MS);
    };
    const open = async () => {
      let ticket: string;
      try {
        ({ ticket } = await api<{ ticket: string }>('POST', '/api/fleet/stream-tickets', { token }));
      } catch (err) {
        if (done) return;
        if (err instanceof ApiError && err.status === 401) return onUnauthorized();
        return again();
      }
      if (done) return;
      const stream = new EventSource(`/api/fleet/stream?ticket=${encodeURIComponent(ticket)}`);
      source = stream;
      stream.addEventListener('open', () => setLink('live'));
      stream.addEventListener('error', () => {
        setLink('lost');
        if (stream.readyState !== EventSource.CLOSED || done) return;
        stream.close();
        again();
      });
      stream.addEventListener('lockers', (e) => {
        const msg = JSON.parse((e as MessageEvent).data) as { full: boolean; lockers: FleetLockerSummary[] };
        setLockers((old) => {
          const next = msg.full ? new Map<string, FleetLockerSummary>() : new Map(old);
          for (const l of msg.lockers) next.set(l.lockerId, l);
          return next;
        });
        setChanged((c) => ({ ids: msg.full ? null : new Set(msg.lockers.map((l) => l.lockerId)), n: c.n + 1 }));
        setLink('live');
        setUpdatedAt(new Date());
      });
    };
    void open();
    return () => {
      done = true;
      clearTimeout(timer);
      source?.close();
    };
  }, [token]);

  const all = useMemo(() => [...lockers.values()].sort((a, b) => lockerName(a).localeCompare(lockerName(b), 'vi')), [lockers]);
  const districts = useMemo(() => [...new Set(all.map((l) => l.site?.district).filter((d): d is string => !!d))].sort(), [all]);
  const wards = useMemo(
    () => [...new Set(all.filter((l) => l.site?.district === district).map((l) => l.site!.ward))].sort(),
    [all, district],
  );
  const shown = all.filter((l) => (!district || l.site?.district === district) && (!ward || l.site?.ward === ward));
  const totals = fleetTotals(shown, STATES);
  const current = selected ? lockers.get(selected) : undefined;

  return html`<section class="panel">
      <div class="panel-head">
        <h2>Tủ hồ sơ</h2>
        <p class=${`link link-${link}`} role="status">
          ${link === 'live' ? '● Trực tiếp' : link === 'lost' ? '● Mất kết nối, đang kết nối lại…' : '● Đang kết nối…'}
          ${updatedAt ? html` <span class="muted">· cập nhật ${updatedAt.toLocaleTimeString('vi-VN')}</span>` : null}
        </p>
      </div>
      <div class="filters">
        <label class="field"
          >Quận / huyện
          <select
            value=${district}
            onChange=${(e: Event) => {
              setDistrict((e.target as HTMLSelectElement).value);
              setWard('');
            }}
          >
            <option value="">Tất cả</option>
            ${districts.map((d) => html`<option value=${d}>${d}</option>`)}
          </select>
        </label>
        <label class="field"
          >Phường / xã
          <select value=${ward} disabled=${!district} onChange=${(e: Event) => setWard((e.target as HTMLSelectElement).value)}>
            <option value="">Tất cả</option>
            ${wards.map((w) => html`<option value=${w}>${w}</option>`)}
          </select>
        </label>
      </div>
      <div class="tiles" aria-label="Tổng cộng">
        <div class="tile" data-total="lockers"><span>Tủ</span><strong>${totals.lockers}</strong></div>
        <div class="tile" data-total="online"><span>Trực tuyến</span><strong>${totals.online}</strong></div>
        <div class=${`tile ${totals.offline ? 'warn' : ''}`} data-total="offline">
          <span>Mất kết nối</span><strong>${totals.offline}</strong>
        </div>
        <div class="tile" data-total="free"><span>Khay trống</span><strong>${totals.trays.free}</strong></div>
        <div class="tile" data-total="holding_deposit"><span>Hồ sơ nộp trong tủ</span><strong>${totals.trays.holding_deposit}</strong></div>
        <div class="tile" data-total="holding_result"><span>Kết quả chờ nhận</span><strong>${totals.trays.holding_result}</strong></div>
        <div class=${`tile ${totals.trays.out_of_service ? 'warn' : ''}`} data-total="out_of_service">
          <span>Ngừng hoạt động</span><strong>${totals.trays.out_of_service}</strong>
        </div>
        <div class=${`tile ${totals.alarms ? 'warn' : ''}`} data-total="alarms"><span>Cảnh báo</span><strong>${totals.alarms}</strong></div>
      </div>
      ${district ? null : html`<${Districts} totals=${totals} />`}
      <${LockerTable} lockers=${shown} selected=${selected} onSelect=${setSelected} />
    </section>
    ${current ? html`<${LockerDetail} token=${token} locker=${current} changed=${changed} onClose=${() => setSelected(null)} />` : null}
    <${FiguresPanel} token=${token} district=${district} ward=${ward} onUnauthorized=${onUnauthorized} />`;
}

function Districts({ totals }: { totals: ReturnType<typeof fleetTotals> }) {
  if (totals.byDistrict.length < 2) return null;
  return html`<table class="fleet-table districts" aria-label="Theo quận / huyện">
    <thead>
      <tr>
        <th scope="col">Quận / huyện</th>
        <th scope="col">Tủ</th>
        <th scope="col">Trực tuyến</th>
        <th scope="col">Khay trống</th>
        <th scope="col">Hồ sơ nộp</th>
        <th scope="col">Kết quả</th>
        <th scope="col">Cảnh báo</th>
      </tr>
    </thead>
    <tbody>
      ${totals.byDistrict.map(
        (d) =>
          html`<tr data-district=${d.district ?? ''}>
            <th scope="row">${d.district ?? 'Chưa đăng ký địa bàn'}</th>
            <td>${d.lockers}</td>
            <td>${d.online}</td>
            <td>${d.trays.free}</td>
            <td>${d.trays.holding_deposit}</td>
            <td>${d.trays.holding_result}</td>
            <td>${d.alarms}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

function LockerTable({
  lockers,
  selected,
  onSelect,
}: {
  lockers: FleetLockerSummary[];
  selected: string | null;
  onSelect: (id: string) => void;
}) {
  if (!lockers.length) return html`<p class="muted">Chưa có tủ nào.</p>`;
  return html`<table class="fleet-table lockers">
    <thead>
      <tr>
        <th scope="col">Tủ</th>
        <th scope="col">Địa bàn</th>
        <th scope="col">Kết nối</th>
        <th scope="col">Trống</th>
        <th scope="col">Hồ sơ nộp</th>
        <th scope="col">Kết quả</th>
        <th scope="col">Cần kiểm tra</th>
        <th scope="col">Ngừng</th>
        <th scope="col">Cảnh báo</th>
        <th scope="col">Đợt thu kế tiếp</th>
        <th scope="col">Sự kiện cuối</th>
      </tr>
    </thead>
    <tbody>
      ${lockers.map(
        (l) =>
          html`<tr
            data-locker=${l.lockerId}
            data-online=${String(l.online)}
            class=${`${l.lockerId === selected ? 'selected' : ''} ${l.online === false ? 'offline' : ''}`}
          >
            <th scope="row">
              <button class="linkish" onClick=${() => onSelect(l.lockerId)} aria-label=${`Xem tủ ${lockerName(l)}`}>
                ${lockerName(l)}
              </button>
              ${l.site ? html`<span class="muted small"> ${l.lockerId}</span>` : null}
            </th>
            <td>${l.site ? `${l.site.ward}, ${l.site.district}` : html`<span class="muted">–</span>`}</td>
            <td><${Status} online=${l.online} /></td>
            <td data-count="free">${l.counts?.free ?? '–'}</td>
            <td data-count="holding_deposit">${l.counts?.holding_deposit ?? '–'}</td>
            <td data-count="holding_result">${l.counts?.holding_result ?? '–'}</td>
            <td data-count="to_check">${l.counts?.to_check ?? '–'}</td>
            <td data-count="out_of_service">${l.counts?.out_of_service ?? '–'}</td>
            <td data-count="alarms" class=${l.alarms ? 'bad' : ''}>${l.alarms}</td>
            <td>${roundText(l.nextRound)}</td>
            <td>
              ${l.lastEvent ? html`${l.lastEvent.type} <span class="muted">${l.lastEvent.at ? formatDateTime(l.lastEvent.at) : ''}</span>` : '–'}
            </td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

interface FleetEventView {
  id: string;
  type: string;
  at: string;
  data: Record<string, unknown>;
}

function LockerDetail({
  token,
  locker,
  changed,
  onClose,
}: {
  token: string;
  locker: FleetLockerSummary;
  changed: { ids: Set<string> | null; n: number };
  onClose: () => void;
}) {
  const [detail, setDetail] = useState<FleetLockerDetail | null>(null);
  const [events, setEvents] = useState<FleetEventView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const id = locker.lockerId;
  const ref = useRef<HTMLElement>(null);
  const touched = changed.ids === null || changed.ids.has(id);

  useEffect(() => {
    setDetail(null);
    setEvents(null);
    ref.current?.scrollIntoView({ block: 'start' });
  }, [id]);

  useEffect(() => {
    if (!touched && detail) return;
    let stopped = false;
    const path = `/api/fleet/lockers/${encodeURIComponent(id)}`;
    Promise.all([
      api<FleetLockerDetail>('GET', path, { token }),
      api<{ events: FleetEventView[] }>('GET', `${path}/events?limit=20`, { token }),
    ]).then(
      ([d, e]) => {
        if (stopped) return;
        setDetail(d);
        setEvents(e.events);
        setError(null);
      },
      (err: unknown) => !stopped && setError(err instanceof Error ? err.message : String(err)),
    );
    return () => {
      stopped = true;
    };
  }, [id, changed.n]);

  return html`<section class="panel locker-detail" ref=${ref} aria-label=${`Tủ ${lockerName(locker)}`}>
    <div class="panel-head">
      <h2>${lockerName(locker)} <span class="muted">${id}</span></h2>
      <button class="btn" onClick=${onClose}>Đóng</button>
    </div>
    <p>
      <${Status} online=${locker.online} />
      ${locker.site?.address ? html` · ${locker.site.address}` : null}
      ${locker.stateAt ? html` · <span class="muted">trạng thái lúc ${formatDateTime(locker.stateAt)}</span>` : null}
      ${` · Đợt thu kế tiếp: ${roundText(locker.nextRound)}`}
    </p>
    ${error ? html`<p class="error" role="alert">Không tải được tủ này (${error}).</p>` : null}
    ${detail ? html`<${Cabinets} trays=${detail.trays} />` : html`<p class="muted">Đang tải…</p>`}
    <div class="columns">
      <${Alarms} alarms=${detail ? detail.alarmList : null} />
      <section class="panel">
        <h2>Sự kiện gần đây</h2>
        ${
          events === null
            ? html`<p class="muted">Đang tải…</p>`
            : events.length === 0
              ? html`<p class="muted">Chưa có sự kiện.</p>`
              : html`<ul class="event-list">
                  ${events.map(
                    (e) =>
                      html`<li data-event=${e.type}>
                        <span class="muted">${formatDateTime(e.at)}</span> ${e.type}
                        ${typeof e.data.tray === 'number' ? html` · khay ${e.data.tray}` : null}
                      </li>`,
                  )}
                </ul>`
        }
      </section>
    </div>
  </section>`;
}

const share = (r: number | null) => (r === null ? '–' : `${Math.round(r * 1000) / 10}%`);

function localToday(): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh', year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    new Date(),
  );
}

function daysBefore(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) - n * 86_400_000).toISOString().slice(0, 10);
}

function FiguresPanel({
  token,
  district,
  ward,
  onUnauthorized,
}: {
  token: string;
  district: string;
  ward: string;
  onUnauthorized: () => void;
}) {
  const [to, setTo] = useState(localToday());
  const [from, setFrom] = useState(daysBefore(localToday(), 29));
  const [figures, setFigures] = useState<FleetFigures | null>(null);
  const [error, setError] = useState<string | null>(null);
  const query = new URLSearchParams({ from, to, ...(district ? { district } : {}), ...(ward ? { ward } : {}) }).toString();

  useEffect(() => {
    let stopped = false;
    setFigures(null);
    api<FleetFigures>('GET', `/api/fleet/figures?${query}`, { token }).then(
      (f) => {
        if (stopped) return;
        setFigures(f);
        setError(null);
      },
      (err: unknown) => {
        if (err instanceof ApiError && err.status === 401) return onUnauthorized();
        if (!stopped) setError(err instanceof Error ? err.message : String(err));
      },
    );
    return () => {
      stopped = true;
    };
  }, [query]);

  // A link cannot carry the token in a header: the file is fetched, then handed to the browser.
  const download = async () => {
    try {
      const res = await fetch(`/api/fleet/figures.csv?${query}`, { headers: { authorization: `Bearer ${token}` } });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement('a');
      a.href = url;
      a.download = `atm247-so-lieu-${from}-${to}.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };

  const t = figures?.total;
  return html`<section class="panel figures" aria-label="Số liệu">
    <div class="panel-head">
      <h2>Số liệu</h2>
      <button class="btn" onClick=${download}>Tải CSV</button>
    </div>
    <div class="filters">
      <label class="field"
        >Từ ngày <input type="date" value=${from} max=${to} onChange=${(e: Event) => setFrom((e.target as HTMLInputElement).value)}
      /></label>
      <label class="field"
        >Đến ngày <input type="date" value=${to} min=${from} onChange=${(e: Event) => setTo((e.target as HTMLInputElement).value)}
      /></label>
    </div>
    ${error ? html`<p class="error" role="alert">Không tải được số liệu (${error}).</p>` : null}
    ${
      t
        ? html`<div class="tiles">
              <div class="tile" data-figure="received"><span>Hồ sơ nhận</span><strong>${t.received}</strong></div>
              <div class="tile" data-figure="returned"><span>Kết quả trả vào tủ</span><strong>${t.returned}</strong></div>
              <div class="tile" data-figure="pickedUp"><span>Đã nhận kết quả</span><strong>${t.pickedUp}</strong></div>
              <div class="tile warn" data-figure="unclaimed"><span>Không nhận đúng hạn</span><strong>${t.unclaimed}</strong></div>
              <div class="tile" data-figure="onTimeShare"><span>Tỷ lệ nhận đúng hạn</span><strong>${share(t.onTimeShare)}</strong></div>
            </div>
            <table class="fleet-table figures-table">
              <thead>
                <tr>
                  <th scope="col">Tủ</th>
                  <th scope="col">Hồ sơ nhận</th>
                  <th scope="col">Kết quả trả</th>
                  <th scope="col">Đã nhận</th>
                  <th scope="col">Không nhận đúng hạn</th>
                  <th scope="col">Đúng hạn</th>
                </tr>
              </thead>
              <tbody>
                ${figures!.lockers.map(
                  (l) =>
                    html`<tr data-figures-locker=${l.lockerId}>
                      <th scope="row">${l.site?.name ?? l.lockerId}</th>
                      <td>${l.received}</td>
                      <td>${l.returned}</td>
                      <td>${l.pickedUp}</td>
                      <td>${l.unclaimed}</td>
                      <td>${share(l.onTimeShare)}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
        : error
          ? null
          : html`<p class="muted">Đang tải…</p>`
    }
  </section>`;
}

render(html`<${App} />`, document.getElementById('app')!);
