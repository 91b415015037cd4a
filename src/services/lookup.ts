/** `GET /api/dossiers/:dossierCode`: where a dossier stands, with dates and no personal data. */
import { displayCode, lookupCode } from '../domain/dossier-code.js';
import { RESULT_WAITING } from '../domain/dossier.js';
import { AppError } from '../domain/errors.js';
import type { Database, DossierStore } from './ports.js';

export interface DossierStatusView {
  dossierCode: string;
  kind: 'deposit' | 'result';
  procedureCode: string;
  status: string;
  createdAt: string;
  depositedAt: string | null;
  collectedAt: string | null;
  loadedAt: string | null;
  pickupDeadline: string | null;
  pickedUpAt: string | null;
  returnedAt: string | null;
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

export class DossierLookup {
  constructor(
    private readonly db: Database,
    private readonly dossiers: DossierStore,
  ) {}

  async byCode(input: string): Promise<DossierStatusView> {
    // Our own codes (with a check character), or the online system's dossier number for a result.
    const code = lookupCode(input);
    if (!code) {
      throw new AppError('DOSSIER_CODE_INVALID', 'this is not a dossier code: check the characters (e.g. K7M3-9P2X4)');
    }
    // A deposit and the result loaded for it share the code: the result, newer, tells more; a
    // result waiting in the machine comes first whatever came after it (more papers deposited
    // under the same online number must not hide "ready, collect by …").
    // A cancelled deposit never held a dossier: for the citizen it does not exist.
    const rows = (await this.dossiers.allByCode(this.db, code)).filter((x) => x.status !== 'cancelled' && x.status !== 'verified');
    const d = rows.find((x) => x.kind === 'result' && RESULT_WAITING.includes(x.status)) ?? rows[0];
    if (!d) throw new AppError('DOSSIER_NOT_FOUND', 'no dossier with this code');
    return {
      dossierCode: displayCode(d.code),
      kind: d.kind,
      procedureCode: d.procedureCode,
      status: d.status,
      createdAt: d.createdAt.toISOString(),
      depositedAt: iso(d.depositedAt),
      collectedAt: iso(d.collectedAt),
      loadedAt: iso(d.loadedAt),
      pickupDeadline: iso(d.pickupDeadline),
      pickedUpAt: iso(d.pickedUpAt),
      returnedAt: iso(d.returnedAt),
    };
  }
}
