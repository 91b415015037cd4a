/** Helpers for the citizen flows: read codes from the SMS inbox, move doors, wait for states. */
import type { TestLocker } from './controller.js';
import { until } from './mqtt.js';

export interface InboxMessage {
  id: string;
  to: string;
  text: string;
  kind: string;
  at: string;
}

export async function inbox(locker: TestLocker, phone?: string): Promise<InboxMessage[]> {
  const res = await locker.anonymous.get(`/api/sim/sms${phone ? `?to=${encodeURIComponent(phone)}` : ''}`);
  if (res.statusCode !== 200) throw new Error(`sim sms: ${res.statusCode} ${res.body}`);
  return res.json();
}

/** The newest code texted to `phone` (national form, e.g. 0912345678), after `count` earlier ones. */
export async function codeFor(locker: TestLocker, phone: string, after = 0): Promise<string> {
  const msg = await until(
    async () => (await inbox(locker, phone)).filter((m) => m.kind === 'otp')[after],
    `code #${after + 1} for ${phone}`,
    3_000,
  );
  const code = /\b(\d{6})\b/.exec(msg.text)?.[1];
  if (!code) throw new Error(`no 6-digit code in "${msg.text}"`);
  return code;
}

export async function door(locker: TestLocker, tray: number, open: boolean, force = false): Promise<void> {
  const res = await locker.anonymous.post(`/api/sim/trays/${tray}/door`, { open, force });
  if (res.statusCode !== 200) throw new Error(`door ${tray} ${open ? 'open' : 'close'}: ${res.statusCode} ${res.body}`);
  // Debounced by the bus, then applied by the tray service.
  await until(
    async () => (await locker.staff.get(`/api/trays/${tray}`)).json().door === (open ? 'open' : 'closed'),
    `tray ${tray} ${open ? 'open' : 'closed'}`,
    3_000,
  );
  await locker.controller.trays.settled();
}

/** A deposit procedure of the catalogue for the given tray size. */
export async function depositProcedure(locker: TestLocker, size = 'M'): Promise<string> {
  const list = (await locker.anonymous.get('/api/procedures?deposit=true')).json();
  return list.find((p: any) => p.traySize === size).code;
}

export function wrongCode(code: string): string {
  return code === '000000' ? '111111' : '000000';
}
