/** `GET /api/dossiers/:dossierCode`: where a dossier stands, with dates and no personal data. */
import { normalizeDossierCode } from '../domain/dossier-code.js';
import { AppError } from '../domain/errors.js';
import type { Database, DossierStore } from './ports.js';
import { displayCode } from './results.js';

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
/** The online system's dossier numbers: letters, digits (at least four), dots and dashes, e.g. 000.00.22.H29-250123-0001. */
const EXTERNAL_CODE = /^(?=(?:[^0-9]*[0-9]){4})[A-Za-z0-9][A-Za-z0-9.-]{5,39}$/;
/** Something shaped like our code (4 + 5 characters) whose check failed is a typo, not an external number. */
const OWN_SHAPE = /^[A-Za-z0-9]{4}-?[A-Za-z0-9]{5}$/;

export class DossierLookup {
  constructor(private readonly db: Database, private readonly dossiers: DossierStore) {}

  async byCode(input: string): Promise<DossierStatusView> {
    // Our own codes (with a check character), or the online system's dossier number for a result.
    const code = normalizeDossierCode(input) ?? (EXTERNAL_CODE.test(input.trim()) && !OWN_SHAPE.test(input.trim()) ? input.trim().toUpperCase() : null);
    if (!code) {
      throw new AppError('DOSSIER_CODE_INVALID', 'this is not a dossier code: check the characters (e.g. K7M3-9P2X4)');
    }
    // A deposit and the result loaded for it share the code: the result, newer, tells more.
    // A cancelled deposit never held a dossier: for the citizen it does not exist.
    const d = (await this.dossiers.allByCode(this.db, code)).find((x) => x.status !== 'cancelled' && x.status !== 'verified');
    if (!d) throw new AppError('DOSSIER_NOT_FOUND', 'no dossier with this code');
    return {
      dossierCode: displayCode(d.code), kind: d.kind, procedureCode: d.procedureCode, status: d.status,
      createdAt: d.createdAt.toISOString(), depositedAt: iso(d.depositedAt), collectedAt: iso(d.collectedAt),
      loadedAt: iso(d.loadedAt), pickupDeadline: iso(d.pickupDeadline), pickedUpAt: iso(d.pickedUpAt), returnedAt: iso(d.returnedAt),
    };
  }
}
