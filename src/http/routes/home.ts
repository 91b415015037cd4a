/**
 * `GET /`: the controller's status page: health and, with the simulator, the simulated cabinet
 * with its doors to open and close and its boards to fail. Self-contained (no CDN): the cabinet
 * PC may be offline.
 */
import type { FastifyInstance } from 'fastify';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const PAGE = (name: string, simulator: boolean) => `<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(name)}</title>
<style>
 body{font:16px/1.4 system-ui,sans-serif;margin:1.5rem;background:#f6f7f9;color:#1b1f24}
 h1{font-size:1.4rem;margin:0 0 .5rem} .ok{color:#0a7d32} .bad{color:#b42318}
 .cabinets{display:flex;gap:2rem;flex-wrap:wrap} .cab{background:#fff;border:1px solid #ccd;padding:.75rem;border-radius:8px}
 .grid{display:grid;grid-auto-flow:column;grid-template-rows:repeat(6,auto);gap:4px}
 .tray{width:58px;height:44px;border:1px solid #889;border-radius:4px;background:#e8f5e9;cursor:pointer;font-size:.8rem}
 .tray.open{background:#fff3cd;border-color:#b58100} .tray.off{background:#fde2e1;border-color:#b42318}
 .tray:focus{outline:3px solid #1849a9} code{background:#eef;padding:0 .2rem}
</style></head><body>
<h1>${escapeHtml(name)}</h1>
<p id="health" aria-live="polite">…</p>
${simulator ? `<h2>Simulated cabinet</h2>
<p>Click a tray to open or close its door (a latched door opens only after its lock was released;
shift-click forces it, as a thief would). Board faults are injected with <code>POST /api/sim/boards/:id/fault</code>.</p>
<div class="cabinets" id="cabinets"></div>
<p id="boards"></p>` : ''}
<p>API: <code>GET /health</code>, <code>GET /api/trays</code> (staff token), <code>POST /api/admin/trays/:n/open</code> (admin token).</p>
<script>
const sim = ${simulator};
async function refresh() {
  try {
    const h = await (await fetch('/health')).json();
    document.getElementById('health').innerHTML = 'Status: <b class="' + (h.status === 'ok' ? 'ok' : 'bad') + '">' + h.status +
      '</b> · database ' + h.db + ' · MQTT ' + h.mqtt + ' · bus ' + h.bus + (h.lastScanMs ? ' (door scan ' + h.lastScanMs.toFixed(1) + ' ms)' : '');
    if (!sim) return;
    const c = await (await fetch('/api/sim/cabinet')).json();
    const byCab = new Map();
    for (const t of c.trays) { const k = t.tray <= 30 ? 'A' : 'B'; if (!byCab.has(k)) byCab.set(k, []); byCab.get(k).push(t); }
    const offline = new Set(c.boards.filter(b => b.fault !== 'none').map(b => b.id));
    const root = document.getElementById('cabinets'); root.innerHTML = '';
    for (const [cab, trays] of byCab) {
      const box = document.createElement('div'); box.className = 'cab';
      box.innerHTML = '<b>Cabinet ' + cab + '</b><div class="grid"></div>';
      for (const t of trays) {
        const b = document.createElement('button');
        b.className = 'tray' + (t.door === 'open' ? ' open' : '') + (offline.has(t.board) ? ' off' : '');
        b.textContent = t.tray + (t.door === 'open' ? ' ▯' : t.latched ? ' 🔒' : ' 🔓');
        b.setAttribute('aria-label', 'Tray ' + t.tray + ', door ' + t.door + (t.latched ? ', latched' : ', released'));
        b.onclick = async (ev) => {
          const r = await fetch('/api/sim/trays/' + t.tray + '/door', { method: 'POST', headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ open: t.door !== 'open', force: ev.shiftKey }) });
          if (!r.ok) alert((await r.json()).error.message);
          refresh();
        };
        box.querySelector('.grid').appendChild(b);
      }
      root.appendChild(box);
    }
    document.getElementById('boards').textContent = 'Boards: ' + c.boards.map(b => b.id + ' (unit ' + b.unitId + ') ' + b.fault).join(' · ');
  } catch (e) { document.getElementById('health').textContent = 'controller unreachable'; }
}
refresh(); setInterval(refresh, 1000);
</script></body></html>`;

export async function homeRoutes(app: FastifyInstance, opts: { lockerName: string; simulator: boolean }) {
  const page = PAGE(opts.lockerName, opts.simulator);
  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(page));
}
