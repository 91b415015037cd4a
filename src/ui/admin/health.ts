/**
 * The locker's `/health` at the top of the dashboard when something is wrong: which part is down
 * and, for the lock bus, why in the driver's words ("serial port /dev/atm247-rs485 not found").
 */
import { html } from '../shared/html.js';

export type { HealthAnswer as HealthView } from '../../domain/api.js';
import type { HealthAnswer as HealthView } from '../../domain/api.js';

const PARTS: { key: 'db' | 'mqtt' | 'bus' | 'sms'; label: string }[] = [
  { key: 'db', label: 'Cơ sở dữ liệu' },
  { key: 'mqtt', label: 'MQTT' },
  { key: 'bus', label: 'Bo khóa (bus)' },
  { key: 'sms', label: 'SMS' },
];

export function HealthBanner({ health }: { health: HealthView | null }) {
  if (!health || health.status === 'ok') return null;
  const down = PARTS.filter((part) => health[part.key] !== undefined && health[part.key] !== 'ok');
  return html`<section class="panel health-banner" role="alert">
    <h2>Tình trạng: có sự cố</h2>
    <ul>
      ${down.map((part) => html`<li><strong>${part.label}</strong>: ${health[part.key]}</li>`)}
      ${(health.busErrors ?? []).map((problem) => html`<li class="bus-error">${problem}</li>`)}
      ${health.boardsOffline?.length ? html`<li>Bo không trả lời: ${health.boardsOffline.join(', ')}</li>` : null}
    </ul>
  </section>`;
}
