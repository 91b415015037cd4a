/**
 * Every error the controller reports carries a stable code, defined here and nowhere else.
 * HTTP maps `status`; logs and events carry `code`.
 */
export const ERROR_CODES = {
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  /** A one-time-code route asked from an address that is not one of the kiosk's (`http.kioskClients`). */
  KIOSK_ONLY: 403,
  NOT_FOUND: 404,
  TRAY_NOT_FOUND: 404,
  TRAY_UNAVAILABLE: 409,
  CONFLICT: 409,
  RESULT_ALREADY_LOADED: 409,
  ROUND_NOT_FOUND: 404,
  ROUND_NOT_OPEN: 409,
  ITEM_NOT_FOUND: 404,
  ITEM_ALREADY_CONFIRMED: 409,
  PHONE_INVALID: 400,
  PHONE_NOT_VIETNAMESE_MOBILE: 400,
  PROCEDURE_NOT_FOUND: 400,
  PROCEDURE_NOT_ACCEPTED: 400,
  DOSSIER_CODE_INVALID: 400,
  /** A deposit of a dossier filed online given one of this machine's own codes, not the online system's number (ADR 0029). */
  ONLINE_NUMBER_EXPECTED: 400,
  /** A deposit under an online-system number already in the machine: on its way in, or waiting for the round (ADR 0029). */
  DOSSIER_ALREADY_DEPOSITED: 409,
  /** A citizen ID card's QR text that is not one (src/domain/citizen-id.ts names what is wrong). */
  ID_CARD_INVALID: 400,
  /** A personal identification number that is not 12 digits with a province code and a possible birth year. */
  ID_NUMBER_INVALID: 400,
  /** A deposit named a scanned ID card (`idScanId`) that is not held: never scanned, or scanned more than 5 minutes ago. */
  ID_SCAN_NOT_FOUND: 404,
  /** A result of an ID-card procedure (`pickupProof: id_number`) loaded without its holder's ID number. */
  HOLDER_ID_REQUIRED: 400,
  /** A holder's ID number given for a result whose procedure does not ask for one (the wrong procedure?). */
  HOLDER_ID_NOT_EXPECTED: 400,
  /** The ID number given at pickup is not the holder's of any result waiting (tries left in the details). */
  ID_NUMBER_MISMATCH: 403,
  /** This pickup code has had its wrong ID numbers: it opens no ID card any more; ask for a new code. */
  ID_NUMBER_TRIES_EXHAUSTED: 403,
  /** An ID number given for a pickup whose code has not been checked (POST …/verify first). */
  PICKUP_NOT_VERIFIED: 409,
  /** No result waiting for this pickup needs an ID number (none, or all released or held). */
  NO_IDENTITY_NEEDED: 409,
  /** The ID number came too long after the code was checked: start the pickup again. */
  IDENTITY_WINDOW_CLOSED: 410,
  DOSSIER_NOT_FOUND: 404,
  CHALLENGE_NOT_FOUND: 404,
  DEPOSIT_NOT_FOUND: 404,
  OTP_INVALID: 400,
  OTP_EXPIRED: 410,
  OTP_USED: 409,
  OTP_SENDING: 409,
  RESEND_TOO_SOON: 429,
  DOOR_LATCHED: 409,
  /** No rating is open under this token: never handed out, or past its time (RATING_WINDOW_MS). */
  RATING_TOKEN_NOT_FOUND: 404,
  /** The visit this token was handed out for has been rated already: one rating per visit. */
  RATING_ALREADY_GIVEN: 409,
  /** A payment notification without a valid signature (webhook secret, HMAC-SHA256, ±5 min). */
  PAYMENT_SIGNATURE_INVALID: 401,
  /** A payment notification or transfer list the daemon cannot read (shape, amount, id). */
  PAYMENT_NOTIFICATION_INVALID: 400,
  /** No payment under this id. */
  PAYMENT_NOT_FOUND: 404,
  /** The payment is not waiting any more (paid, expired or cancelled): nothing to cancel or pay. */
  PAYMENT_NOT_AWAITED: 409,
  /** The citizen asked for more time at the QR as often as allowed (PAYMENT_EXTENSIONS). */
  PAYMENT_EXTENSIONS_USED: 409,
  /** No transfer under this id at this locker. */
  TRANSFER_NOT_FOUND: 404,
  /** The transfer paid its fee: nothing goes back. */
  REFUND_NOT_DUE: 409,
  /** The refund of this transfer was recorded before (when and its reference in the details). */
  REFUND_ALREADY_RECORDED: 409,
  /** No receipt under this id. */
  RECEIPT_NOT_FOUND: 404,
  ACCOUNT_NOT_FOUND: 404,
  ACCOUNT_NAME_TAKEN: 409,
  ACCOUNT_DISABLED: 409,
  PIN_TOO_WEAK: 400,
  SIGN_IN_FAILED: 401,
  SIGN_IN_LOCKED: 429,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  /** Too many requests from this client address (`http.rateLimits`), refused before any other work. */
  TOO_MANY_REQUESTS: 429,
  SMS_FAILED: 502,
  BUS_TIMEOUT: 503,
  BUS_CRC_ERROR: 503,
  BUS_UNAVAILABLE: 503,
  BOARD_OFFLINE: 503,
  SERVICE_UNAVAILABLE: 503,
  DB_UNAVAILABLE: 503,
  /** A door change of this tray is seen and not yet written: its records may be stale for a moment. */
  DOOR_CHANGES_PENDING: 503,
  CONFIG_INVALID: 500,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CODES[code];
    this.details = details;
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
