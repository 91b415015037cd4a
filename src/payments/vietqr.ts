/**
 * The VietQR code a citizen scans to pay a fee: a NAPAS 247 EMVCo merchant-presented payload naming
 * the district's collecting account, the exact amount and the transfer reference (in the purpose
 * field, which the banking apps copy into the transfer text), and that payload drawn as an SVG.
 */
import QRCode from 'qrcode';
import { QRPay } from 'vietnam-qr-pay';

/** The most a single fee may be (VND); far above any procedure's, well below a bank's limits. */
export const MAX_QR_AMOUNT = 500_000_000;

export function vietQrPayload(a: { bankBin: string; accountNumber: string; amount: number; reference: string }): string {
  if (!/^\d{6}$/.test(a.bankBin)) throw new RangeError('bankBin must be 6 digits');
  if (!/^[A-Za-z0-9]{1,19}$/.test(a.accountNumber)) throw new RangeError('accountNumber must be 1 to 19 letters or digits');
  if (!Number.isInteger(a.amount) || a.amount <= 0 || a.amount > MAX_QR_AMOUNT) {
    throw new RangeError(`amount must be a whole number of VND from 1 to ${MAX_QR_AMOUNT}`);
  }
  if (!/^[A-Z0-9]{1,25}$/.test(a.reference)) throw new RangeError('reference must be 1 to 25 of A-Z and 0-9');
  // With an amount the library marks the code dynamic (point of initiation 12): the app locks the amount.
  return QRPay.initVietQR({
    bankBin: a.bankBin,
    bankNumber: a.accountNumber,
    amount: String(a.amount),
    purpose: a.reference,
  }).build();
}

/** The payload as an SVG image (error correction M, a quiet zone of 2 modules). */
export function qrSvg(text: string): Promise<string> {
  return QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}
