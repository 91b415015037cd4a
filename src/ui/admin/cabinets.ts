/** The cabinets drawn as they stand: trays numbered down each column, six to a column. */
import { html } from '../shared/html.js';

export type { TrayView } from '../../domain/api.js';
import type { TrayView } from '../../domain/api.js';

/** What the grid draws of a tray: a cabinet's own view (TrayView), or the fleet's copy of it. */
export interface GridTray {
  number: number;
  cabinet: string;
  size: string;
  state: TrayView['state'];
  door: string;
  fault?: string | null;
  outOfServiceReason?: string | null;
}

export const STATE_NAMES: Record<TrayView['state'], string> = {
  free: 'Trống',
  reserved: 'Đang mở cho giao dịch',
  holding_deposit: 'Có hồ sơ nộp',
  holding_result: 'Có kết quả',
  to_check: 'Cần kiểm tra',
  out_of_service: 'Ngừng hoạt động',
};

const ROWS = 6;

function trayLabel(tr: GridTray): string {
  const door = tr.door === 'open' ? 'cửa mở' : tr.door === 'closed' ? 'cửa đóng' : 'cửa không rõ';
  const why = tr.state === 'out_of_service' ? ` (${tr.fault ?? tr.outOfServiceReason ?? ''})` : '';
  return `Khay ${tr.number}, cỡ ${tr.size}: ${STATE_NAMES[tr.state]}${why}, ${door}`;
}

export function Cabinets({ trays }: { trays: GridTray[] }) {
  const byCabinet = new Map<string, GridTray[]>();
  for (const tr of trays) byCabinet.set(tr.cabinet, [...(byCabinet.get(tr.cabinet) ?? []), tr]);
  const counts = Object.fromEntries(Object.keys(STATE_NAMES).map((s) => [s, trays.filter((tr) => tr.state === s).length]));
  const open = trays.filter((tr) => tr.door === 'open').length;
  return html` <ul class="legend" aria-label="Chú thích">
      ${Object.entries(STATE_NAMES).map(([s, name]) => html`<li><span class=${`swatch s-${s}`} aria-hidden="true"></span>${name}: <strong>${counts[s]}</strong></li>`)}
      <li><span class="swatch door-swatch" aria-hidden="true"></span>Cửa mở: <strong>${open}</strong></li>
    </ul>
    <div class="cabinets">
      ${trays.length === 0 ? html`<p class="muted">Đang tải…</p>` : null}
      ${[...byCabinet].map(
        ([cabinet, list]) =>
          html` <figure class="cabinet" aria-label=${`Tủ ${cabinet}`}>
            <figcaption>Tủ ${cabinet} <span class="muted">(${list[0].number}–${list[list.length - 1].number})</span></figcaption>
            <ol class="trays" style=${`grid-template-columns: repeat(${Math.ceil(list.length / ROWS)}, 1fr)`}>
              ${list.map(
                (tr) =>
                  html` <li
                    class=${`tray s-${tr.state} ${tr.door === 'open' ? 'door-open' : ''}`}
                    data-tray=${tr.number}
                    data-state=${tr.state}
                    data-door=${tr.door}
                    title=${trayLabel(tr)}
                    aria-label=${trayLabel(tr)}
                  >
                    <span class="tray-no">${tr.number}</span>
                    <span class="tray-size">${tr.size}</span>
                    ${tr.door === 'open' ? html`<span class="tray-door">MỞ</span>` : null}
                  </li>`,
              )}
            </ol>
          </figure>`,
      )}
    </div>`;
}
