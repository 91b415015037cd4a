/**
 * One error shape for every route: `{error: {code, message}}`. Bad input is a 4xx with a stable
 * code; a database that cannot be reached is a 503 DB_UNAVAILABLE with Retry-After; any other 5xx
 * is logged with its cause and answered with a bare message.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_CODES, type ErrorCode } from '../domain/errors.js';
import { FREE_TEXT_PATTERN, FREE_TEXT_REFUSED } from './schemas.js';

/** What a client is told to wait before trying again while the database is unavailable, in s. */
export const DB_RETRY_AFTER_SEC = 5;

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: Record<string, unknown> };
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'VALIDATION_FAILED',
  FST_ERR_CTP_INVALID_JSON_BODY: 'VALIDATION_FAILED',
};

function codeForStatus(status: number): ErrorCode {
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  if (status === 413) return 'PAYLOAD_TOO_LARGE';
  if (status === 415) return 'UNSUPPORTED_MEDIA_TYPE';
  if (status === 429) return 'RATE_LIMITED';
  return 'VALIDATION_FAILED';
}

export function sendError(reply: FastifyReply, code: ErrorCode, message: string, details?: Record<string, unknown>) {
  const body: ErrorBody = { error: { code, message, ...(details ? { details } : {}) } };
  return reply.status(ERROR_CODES[code]).send(body);
}

export interface ErrorHandlingOptions {
  /**
   * True when an error means the database cannot serve right now (the store's classification,
   * handed in by the composition root): answered 503 DB_UNAVAILABLE with a Retry-After.
   */
  dbUnavailable?: (err: unknown) => boolean;
}

export function installErrorHandling(app: FastifyInstance, opts: ErrorHandlingOptions = {}): void {
  const isDbUnavailable = opts.dbUnavailable ?? (() => false);
  app.setErrorHandler((err: FastifyError | AppError | Error, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof AppError && !(err.code === 'INTERNAL' && isDbUnavailable(err.cause))) {
      if (err.status >= 500) request.log.warn({ err }, 'request failed');
      const retryAfter = err.details?.retryAfterSec;
      if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
      return sendError(reply, err.code, err.message, err.details);
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      const first = fe.validation[0];
      if (first?.keyword === 'pattern' && first.params?.pattern === FREE_TEXT_PATTERN) {
        const field = `${fe.validationContext ?? 'body'}${first.instancePath.replace(/\//g, '.')}`;
        return sendError(reply, 'VALIDATION_FAILED', `${field} must be printable text (${FREE_TEXT_REFUSED})`);
      }
      return sendError(reply, 'VALIDATION_FAILED', fe.message.replace(/^(body|params|querystring|headers)\//, '$1.'));
    }
    if (fe.code && FASTIFY_CODES[fe.code]) {
      const message = fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ? 'the request body is not valid JSON' : fe.message;
      return sendError(reply, FASTIFY_CODES[fe.code], message);
    }
    if (err instanceof SyntaxError || (fe.statusCode === 400 && /JSON/i.test(fe.message))) {
      return sendError(reply, 'VALIDATION_FAILED', 'the request body is not valid JSON');
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      return sendError(reply, codeForStatus(fe.statusCode), fe.message);
    }
    // Down, frozen, restarting or saturated: say so and when to come back, never a bare 500.
    if (isDbUnavailable(err)) {
      request.log.warn({ err: err.message, code: fe.code }, 'database unavailable');
      reply.header('retry-after', String(DB_RETRY_AFTER_SEC));
      return sendError(reply, 'DB_UNAVAILABLE', 'the database is not available at the moment; try again shortly', {
        retryAfterSec: DB_RETRY_AFTER_SEC,
      });
    }
    request.log.error({ err }, 'unhandled error');
    return sendError(reply, 'INTERNAL', 'internal error');
  });

  app.setNotFoundHandler((request, reply) => sendError(reply, 'NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0]}`));
}

/** The error schema, for route `response` declarations. */
export const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: { type: 'object', additionalProperties: true } },
    },
  },
} as const;
