/** The procedure catalogue: which dossiers the machine receives and which results it returns. */
import type { TraySize } from './cabinet.js';
import type { PickupProof } from './pickup-identity.js';

export interface Procedure {
  code: string;
  field: string;
  name: { vi: string; en: string };
  /** At most 40 characters; used in SMS texts. */
  short: { vi: string; en: string };
  /** Dossiers of this procedure can be deposited at the machine. */
  deposit: boolean;
  /** Results of this procedure can be collected at the machine. */
  result: boolean;
  /** VND per dossier; 0 for most procedures. */
  fee: number;
  feeNote?: string;
  /**
   * How a fee is paid (fee > 0 only): `before` the tray opens, by VietQR transfer at the kiosk,
   * or `later` at the counter (the default: the deposit is recorded unpaid). docs/payments.md.
   */
  payment?: 'before' | 'later';
  /**
   * What a pickup needs beside the phone's code (result true only): `id_number`, the holder's
   * 12-digit ID number, recorded (hashed) when the result is loaded and given at the kiosk, typed
   * or scanned from the old card (ID cards; docs/adr/0028-id-card-pickup-second-factor.md).
   */
  pickupProof?: PickupProof;
  traySize: TraySize;
  /**
   * The entry for dossiers filed on the city's online system (ADR 0029): deposited under the online
   * system's number rather than chosen from the list; at most one entry, deposit only, no fee.
   */
  online?: boolean;
}

export function findProcedure(catalogue: readonly Procedure[], code: string): Procedure | undefined {
  return catalogue.find((p) => p.code === code);
}

/** The procedures a citizen chooses from to deposit (the online-dossier entry is not one: it goes by its number). */
export const depositProcedures = (catalogue: readonly Procedure[]) => catalogue.filter((p) => p.deposit && !p.online);
/** The entry dossiers filed online are deposited under, if the catalogue has one. */
export const onlineDossierEntry = (catalogue: readonly Procedure[]) => catalogue.find((p) => p.online);
export const resultProcedures = (catalogue: readonly Procedure[]) => catalogue.filter((p) => p.result);

/** Sorted as the kiosk lists them: by field, then by Vietnamese name. */
export function sortForKiosk(catalogue: readonly Procedure[]): Procedure[] {
  return [...catalogue].sort((a, b) => a.field.localeCompare(b.field, 'vi') || a.name.vi.localeCompare(b.name.vi, 'vi'));
}
