/**
 * Vietnamese mobile numbers, in any usual form (`0912 345 678`, `+84912345678`, `84 91 234 5678`),
 * validated and normalised to E.164 by libphonenumber-js with full metadata (which knows which
 * ranges are mobile). Only Vietnamese mobiles can receive the locker's codes.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { AppError } from './errors.js';

export interface VnMobile {
  /** +84912345678 */
  e164: string;
  /** 0912345678 */
  national: string;
}

/** Characters a person may type around the digits; anything else is not a phone number. */
const TYPED_FORM = /^[0-9+\s().-]{8,20}$/;

export function parseVnMobile(input: string): VnMobile {
  const text = input.trim();
  if (!TYPED_FORM.test(text)) {
    throw new AppError('PHONE_INVALID', 'enter a Vietnamese mobile number, e.g. 0912 345 678');
  }
  const phone = parsePhoneNumberFromString(text, 'VN');
  if (!phone || !phone.isValid()) {
    throw new AppError('PHONE_INVALID', 'this is not a valid phone number; enter a Vietnamese mobile number, e.g. 0912 345 678');
  }
  if (phone.country !== 'VN') {
    throw new AppError('PHONE_NOT_VIETNAMESE_MOBILE', 'only Vietnamese mobile numbers can receive the code');
  }
  const type = phone.getType();
  if (type !== 'MOBILE' && type !== 'FIXED_LINE_OR_MOBILE') {
    throw new AppError('PHONE_NOT_VIETNAMESE_MOBILE', 'a landline cannot receive SMS: enter a mobile number');
  }
  return { e164: phone.number, national: `0${phone.nationalNumber}` };
}

/**
 * A number as it may be shown or logged: `+84912345678` → `+84*****678` (country code and the last
 * three digits; a fixed run of stars, so not even the length shows).
 */
export function maskPhone(e164: string): string {
  return e164.length < 8 ? '*****' : `${e164.slice(0, 3)}*****${e164.slice(-3)}`;
}
