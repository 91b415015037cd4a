/** Today's and 30 days' figures with a daily chart (inline SVG), and the recent alarms. */
import { html } from '../shared/html.js';

/** What `GET /api/admin/stats` and `/api/admin/alarms` answer (the service's own types). */
export type { DashboardStats as Stats, AlarmView as Alarm } from '../../domain/api.js';
import type { DashboardStats as Stats, AlarmView as Alarm } from '../../domain/api.js';

const rate = (r: number | null) => (r === null ? '–' : `${Math.round(r * 1000) / 10}%`);

function Row({ label, today, month }: { label: string; today: string | number; month: string | number }) {
  return html`<tr>
    <th scope="row">${label}</th>
    <td>${today}</td>
    <td>${month}</td>
  </tr>`;
}

const SERIES = [
  { key: 'deposits', name: 'Hồ sơ nộp', cls: 'c-deposits' },
  { key: 'loaded', name: 'Kết quả đưa vào', cls: 'c-loaded' },
  { key: 'pickedUp', name: 'Đã nhận', cls: 'c-picked' },
] as const;

function Chart({ days }: { days: Stats['days'] }) {
  const W = 640;
  const H = 200;
  const pad = { l: 28, r: 8, t: 10, b: 24 };
  const max = Math.max(1, ...days.flatMap((d) => [d.deposits, d.loaded, d.pickedUp]));
  const slot = (W - pad.l - pad.r) / Math.max(1, days.length);
  const bar = Math.max(1, (slot - 2) / SERIES.length);
  const y = (v: number) => pad.t + (H - pad.t - pad.b) * (1 - v / max);
  const total = (k: (typeof SERIES)[number]['key']) => days.reduce((n, d) => n + d[k], 0);
  return html` <svg
      class="chart"
      viewBox=${`0 0 ${W} ${H}`}
      role="img"
      aria-label=${`30 ngày: ${SERIES.map((s) => `${s.name} ${total(s.key)}`).join(', ')}`}
    >
      <line x1=${pad.l} x2=${W - pad.r} y1=${y(0)} y2=${y(0)} class="axis" />
      <text x=${pad.l - 4} y=${y(max) + 4} class="tick" text-anchor="end">${max}</text>
      <text x=${pad.l - 4} y=${y(0)} class="tick" text-anchor="end">0</text>
      ${days.map(
        (d, i) =>
          html`<g>
            ${SERIES.map(
              (s, j) =>
                html`<rect class=${s.cls} x=${pad.l + i * slot + 1 + j * bar} y=${y(d[s.key])} width=${bar} height=${y(0) - y(d[s.key])}
                  ><title>${d.day}: ${s.name} ${d[s.key]}</title></rect
                >`,
            )}
            ${
              i % 5 === 4 || i === days.length - 1
                ? html`<text x=${pad.l + i * slot + slot / 2} y=${H - 6} class="tick" text-anchor="middle"
                    >${d.day.slice(8)}/${d.day.slice(5, 7)}</text
                  >`
                : null
            }
          </g>`,
      )}
    </svg>
    <ul class="legend small">
      ${SERIES.map((s) => html`<li><span class=${`swatch ${s.cls}`} aria-hidden="true"></span>${s.name}</li>`)}
    </ul>`;
}

export function Figures({ stats }: { stats: Stats | null }) {
  if (!stats)
    return html`<section class="panel">
      <h2>Số liệu</h2>
      <p class="muted">Đang tải…</p>
    </section>`;
  const { today, last30Days: m, now } = stats;
  return html` <section class="panel figures">
    <h2>Số liệu</h2>
    <div class="tiles">
      <div class="tile"><span>Hồ sơ chờ thu</span><strong>${now.depositsWaiting}</strong></div>
      <div class="tile"><span>Kết quả chờ nhận</span><strong>${now.resultsWaiting}</strong></div>
      <div class="tile warn"><span>Quá hạn chưa nhận</span><strong>${now.resultsOverdue}</strong></div>
    </div>
    <table class="figures-table">
      <thead>
        <tr>
          <th></th>
          <th scope="col">Hôm nay</th>
          <th scope="col">30 ngày</th>
        </tr>
      </thead>
      <tbody>
        <${Row} label="Hồ sơ nộp" today=${today.deposits} month=${m.deposits} />
        <${Row} label="Kết quả đưa vào máy" today=${today.loaded} month=${m.loaded} />
        <${Row} label="Kết quả đã nhận" today=${today.pickedUp} month=${m.pickedUp} />
        <${Row} label="Không nhận đúng hạn" today=${today.unclaimed} month=${m.unclaimed} />
        <${Row} label="Tỷ lệ nhận đúng hạn" today=${rate(today.onTimeRate)} month=${rate(m.onTimeRate)} />
      </tbody>
    </table>
    <${Chart} days=${stats.days} />
  </section>`;
}

const ALARM_NAMES: Record<string, string> = {
  'alarm.door_open_unexpected': 'Cửa mở bất thường',
  'alarm.door_held_open': 'Cửa để mở quá lâu',
  'alarm.pickup_identity_held': 'Thẻ căn cước bị giữ lại: nhập sai số định danh nhiều lần, trả tại bộ phận một cửa',
  'alarm.board_offline': 'Bo mạch không trả lời',
  'board.fault': 'Bo mạch không trả lời',
  // Listed only when boards did not answer the start-up reading (no board.fault is seen then).
  'locker.started': 'Bo mạch không trả lời khi khởi động',
  'tray.to_check': 'Khay cần kiểm tra',
};

/** The boards an alarm names: `board` of a fault, `boardsOffline` of a start-up reading. */
function boardsOf(data: Alarm['data']): string[] {
  if (typeof data.board === 'string') return [data.board];
  return Array.isArray(data.boardsOffline) ? data.boardsOffline.filter((b): b is string => typeof b === 'string') : [];
}

export function Alarms({ alarms }: { alarms: Alarm[] | null }) {
  return html` <section class="panel alarms" aria-labelledby="alarms-title">
    <h2 id="alarms-title">Cảnh báo</h2>
    ${alarms === null ? html`<p class="muted">Đang tải…</p>` : null}
    ${alarms && !alarms.length ? html`<p class="muted">Không có cảnh báo.</p>` : null}
    ${
      alarms && alarms.length
        ? html`<ul class="alarm-list">
            ${alarms.map((a) => {
              const boards = boardsOf(a.data);
              return html`<li data-type=${a.type}>
                <strong>${ALARM_NAMES[a.type] ?? 'Cảnh báo khác'}</strong>
                ${typeof a.data.tray === 'number' ? html` · khay ${a.data.tray}` : null}
                ${boards.length ? html` · bo mạch ${boards.join(', ')}` : null}
                <span class="muted"> · ${new Date(a.at).toLocaleString('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh' })}</span>
              </li>`;
            })}
          </ul>`
        : null
    }
  </section>`;
}
