/** The procedure catalogue: which dossiers the machine receives and which results it returns. */
import type { TraySize } from './cabinet.js';

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
  traySize: TraySize;
}

export function findProcedure(catalogue: readonly Procedure[], code: string): Procedure | undefined {
  return catalogue.find((p) => p.code === code);
}

export const depositProcedures = (catalogue: readonly Procedure[]) => catalogue.filter((p) => p.deposit);
export const resultProcedures = (catalogue: readonly Procedure[]) => catalogue.filter((p) => p.result);

/** Sorted as the kiosk lists them: by field, then by Vietnamese name. */
export function sortForKiosk(catalogue: readonly Procedure[]): Procedure[] {
  return [...catalogue].sort((a, b) => a.field.localeCompare(b.field, 'vi') || a.name.vi.localeCompare(b.name.vi, 'vi'));
}
