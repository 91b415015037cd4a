/** Helpers for the citizen flows: read codes from the SMS inbox, move doors, wait for states. */
import { randomUUID } from 'node:crypto';
import { formatDossierCode, newDossierCode } from '../../src/domain/dossier-code.js';
import { parseVnMobile } from '../../src/domain/phone.js';
import { deriveKeys, PhoneVault } from '../../src/domain/phone-vault.js';
import { SECRET_KEY, type TestLocker } from './controller.js';
import { until } from './mqtt.js';

const vault = new PhoneVault(deriveKeys(Buffer.from(SECRET_KEY, 'utf8')));

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
  const code = /\b(\d{6,10})\b/.exec(msg.text)?.[1];
  if (!code) throw new Error(`no code in "${msg.text}"`);
  // The text is in the inbox before the gateway's answer is recorded: until then the request
  // answers OTP_SENDING, as it would for a citizen quicker than the provider.
  const phoneHash = vault.hash(parseVnMobile(phone).e164);
  await until(
    async () =>
      (await locker.controller.database.query(`SELECT 1 FROM challenges WHERE phone_hash = $1 AND status = 'sending'`, [phoneHash]))
        .rowCount === 0,
    `code #${after + 1} for ${phone} taken by the gateway`,
    3_000,
  );
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

/** A code of the same length that is not `code`. */
export function wrongCode(code: string): string {
  const zeros = '0'.repeat(code.length);
  return code === zeros ? '1'.repeat(code.length) : zeros;
}

/** Puts a result in a tray the way the staff flow will: a dossier 'notified' in a 'holding_result' tray. */
export async function loadResult(locker: TestLocker, phone: string, tray: number, procedureCode = 'CC-01') {
  const db = locker.controller.database;
  const id = randomUUID();
  const code = newDossierCode();
  const now = new Date();
  await db.query(
    `INSERT INTO dossiers (id, locker_id, code, kind, procedure_code, phone_hash, phone_enc, status, tray, created_at,
       loaded_at, notified_at, pickup_deadline, updated_at)
     VALUES ($1, $2, $3, 'result', $4, $5, $6, 'notified', $7, $8, $8, $8, $9, $8)`,
    [
      id,
      locker.lockerId,
      code,
      procedureCode,
      vault.hash(phone),
      vault.encrypt(phone),
      tray,
      now,
      new Date(now.getTime() + 3 * 86_400_000),
    ],
  );
  await db.query(`UPDATE trays SET content = 'holding_result' WHERE locker_id = $1 AND number = $2`, [locker.lockerId, tray]);
  return { id, code: formatDossierCode(code) };
}
