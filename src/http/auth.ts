/**
 * Bearer-token authentication for staff and admin routes. Tokens are looked up by their digest;
 * an admin may do everything a staff member may.
 */
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { AppError } from '../domain/errors.js';
import { actorFor, type SignedInAccount, type StaffRole } from '../domain/accounts.js';

declare module 'fastify' {
  interface FastifyRequest {
    account?: SignedInAccount;
  }
}

export type FindAccount = (token: string) => Promise<SignedInAccount | null>;

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]{1,512})$/;

export function requireRole(role: StaffRole, findAccount: FindAccount): preHandlerAsyncHookHandler {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const header = request.headers.authorization;
    if (!header) throw new AppError('UNAUTHORIZED', 'sign in: an Authorization: Bearer token is required');
    const match = BEARER.exec(header);
    if (!match) throw new AppError('UNAUTHORIZED', 'the Authorization header must be "Bearer <token>"');
    const account = await findAccount(match[1]);
    if (!account) throw new AppError('UNAUTHORIZED', 'the token is not valid');
    if (role === 'admin' && account.role !== 'admin') {
      throw new AppError('FORBIDDEN', 'this action needs an admin account');
    }
    request.account = account;
  };
}

/** The name written in the audit log for the signed-in account. */
export function actorOf(request: FastifyRequest): string {
  return request.account ? actorFor(request.account) : 'anonymous';
}
