/**
 * The district admins' dashboard: the two cabinets as they stand, every tray coloured by its
 * state with its door shown, live over server-sent events; alarms; today's and 30 days' figures;
 * the citizens' satisfaction per month and service; the retention of personal data (settings,
 * last purge).
 */
import '../shared/base.css';
import './admin.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from '../shared/api.js';
import { html } from '../shared/html.js';
import { TokenScreen } from '../shared/token-screen.js';
import { Alarms, Figures, type Alarm, type Stats } from './figures.js';
import { Cabinets, type TrayView } from './cabinets.js';
import { HealthBanner, type HealthView } from './health.js';
import { Retention, type RetentionStatus } from './retention.js';
import { Satisfaction } from './satisfaction.js';
import { Payments } from './payments.js';

const TOKEN_KEY = 'atm247.admin.token';

function App() {
  return html`<${TokenScreen}
    tokenKey=${TOKEN_KEY}
    heading="ATM 24/7 · Giám sát tủ hồ sơ"
    signInTitle="Đăng nhập (quản trị hoặc cán bộ)"
    check="/api/trays"
    render=${(token: string, signOut: () => void) => html`<${Dashboard} token=${token} onUnauthorized=${signOut} />`}
  />`;
}

type Link = 'connecting' | 'live' | 'lost';

function Dashboard({ token, onUnauthorized }: { token: string; onUnauthorized: () => void }) {
  const [trays, setTrays] = useState<Map<number, TrayView>>(new Map());
  const [link, setLink] = useState<Link>('connecting');
  const [stats, setStats] = useState<Stats | null>(null);
  const [alarms, setAlarms] = useState<Alarm[] | null>(null);
  const [retention, setRetention] = useState<RetentionStatus | null>(null);
  const [updatedAt, setUpdatedAt] = useState<Date | null>(null);
  const [health, setHealth] = useState<HealthView | null>(null);

  useEffect(() => {
    const source = new EventSource(`/api/admin/stream?token=${encodeURIComponent(token)}`);
    source.addEventListener('open', () => setLink('live'));
    source.addEventListener('error', () => setLink('lost'));
    source.addEventListener('trays', (e) => {
      const msg = JSON.parse((e as MessageEvent).data) as { full: boolean; trays: TrayView[] };
      setTrays((old) => {
        const next = msg.full ? new Map<number, TrayView>() : new Map(old);
        for (const tr of msg.trays) next.set(tr.number, tr);
        return next;
      });
      setLink('live');
      setUpdatedAt(new Date());
    });
    return () => source.close();
  }, [token]);

  useEffect(() => {
    let stopped = false;
    const load = async () => {
      try {
        const [s, a] = await Promise.all([
          api<Stats>('GET', '/api/admin/stats', { token }),
          api<Alarm[]>('GET', '/api/admin/alarms?limit=15', { token }),
        ]);
        if (!stopped) {
          setStats(s);
          setAlarms(a);
        }
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) onUnauthorized();
      }
      try {
        const h = await api<HealthView>('GET', '/health');
        if (!stopped) setHealth(h);
      } catch {
        if (!stopped) setHealth(null);
      }
      // Apart: the figures do not wait for it, nor go if it fails.
      try {
        const r = await api<RetentionStatus>('GET', '/api/admin/retention', { token });
        if (!stopped) setRetention(r);
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) onUnauthorized();
      }
    };
    void load();
    const timer = setInterval(load, 10_000);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [token]);

  const list = [...trays.values()].sort((a, b) => a.number - b.number);
  return html`<${HealthBanner} health=${health} />
    <section class="panel">
      <div class="panel-head">
        <h2>Khay</h2>
        <p class=${`link link-${link}`} role="status">
          ${link === 'live' ? '● Trực tiếp' : link === 'lost' ? '● Mất kết nối, đang kết nối lại…' : '● Đang kết nối…'}
          ${updatedAt ? html` <span class="muted">· cập nhật ${updatedAt.toLocaleTimeString('vi-VN')}</span>` : null}
        </p>
      </div>
      <${Cabinets} trays=${list} />
    </section>
    <div class="columns">
      <${Figures} stats=${stats} />
      <${Alarms} alarms=${alarms} />
    </div>
    <${Satisfaction} stats=${stats} />
    <${Payments} token=${token} onUnauthorized=${onUnauthorized} />
    <${Retention} status=${retention} />`;
}

render(html`<${App} />`, document.getElementById('app')!);
