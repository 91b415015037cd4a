/**
 * Bearer-token authentication for staff and admin routes, decided in `onRequest`: before the body
 * is read or validated and before any work, so a request without a valid token is 401 and one of
 * the wrong role 403 whatever else is wrong with it. Tokens are looked up by their digest; an admin
 * may do everything a staff member may. Every route file takes its hooks from `authHooks()`; the
 * OpenAPI document marks the routes they guard (`security`, `x-role`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler, RouteOptions } from 'fastify';
import { AppError } from '../domain/errors.js';
import { actorFor, type SignedInAccount, type StaffRole } from '../domain/accounts.js';

declare module 'fastify' {
  interface FastifyRequest {
    account?: SignedInAccount;
  }
}

export type FindAccount = (token: string) => Promise<SignedInAccount | null>;

const BEARER = /^Bearer ([A-Za-z0-9._~+/=-]{1,512})$/;

/** An auth hook, marked with the role it asks for (read by `documentAuth`). */
export type AuthHook = onRequestAsyncHookHandler & { role: StaffRole };

export interface AuthHooks {
  /** Staff or admin. */
  staff: AuthHook;
  /** Admin only. */
  admin: AuthHook;
  /** The lookup itself, for a route that takes its token elsewhere (the dashboard stream's `?token=`). */
  findAccount: FindAccount;
}

export function requireRole(role: StaffRole, findAccount: FindAccount): AuthHook {
  const hook = async (request: FastifyRequest, _reply: FastifyReply) => {
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
  return Object.assign(hook, { role });
}

export function authHooks(findAccount: FindAccount): AuthHooks {
  return { staff: requireRole('staff', findAccount), admin: requireRole('admin', findAccount), findAccount };
}

/** The role a route's `onRequest` hooks ask for, if any. */
export function routeRole(route: Pick<RouteOptions, 'onRequest'>): StaffRole | undefined {
  const hooks = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
  const roles = hooks.map((h) => (h as Partial<AuthHook>).role).filter((r): r is StaffRole => r !== undefined);
  return roles.includes('admin') ? 'admin' : roles[0];
}

/**
 * Marks every guarded route in the OpenAPI document: `security: bearer`, its role in `x-role`, and
 * its 401/403 answers. Register before the routes.
 */
export function documentAuth(app: FastifyInstance, errorSchema: object): void {
  app.addHook('onRoute', (route) => {
    const role = routeRole(route);
    if (!role) return;
    const schema = (route.schema ??= {}) as Record<string, unknown>;
    schema.security = [{ bearer: [] }];
    schema['x-role'] = role;
    const response = (schema.response ??= {}) as Record<string, unknown>;
    response[401] ??= errorSchema;
    response[403] ??= errorSchema;
  });
}

/** The name written in the audit log for the signed-in account. */
export function actorOf(request: FastifyRequest): string {
  return request.account ? actorFor(request.account) : 'anonymous';
}
