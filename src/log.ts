/**
 * pino, one child per module. Phone numbers, one-time codes, PINs and tokens never reach a log
 * line: the paths below are censored wherever they appear in a logged object.
 */
import pino, { type Logger } from 'pino';

export const REDACT_PATHS = [
  'phone',
  '*.phone',
  '*.*.phone',
  'otp',
  '*.otp',
  '*.*.otp',
  '*.otpCode',
  'pin',
  '*.pin',
  'token',
  '*.token',
  'password',
  '*.password',
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'body.phone',
  'body.otp',
  'body.pin',
  'body.token',
];

export function createLogger(opts: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      base: { service: 'atm247' },
    },
    opts.destination,
  );
}

/** A logger that writes nothing, for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** A URL as it may appear in a log line or /health: the password starred out. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable url>';
  }
}
