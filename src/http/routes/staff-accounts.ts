/**
 * Staff accounts: admins create, list and disable accounts and rotate their tokens; officers sign
 * in at the touchscreen with a PIN and an authenticator code, and sign out.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { ErrorAnswer } from '../../domain/api.js';
import {
  AccountCreated,
  AccountDisabled,
  AccountList,
  Me,
  SignedIn,
  SignedOut,
  TokenRotated,
  type AccountView,
} from '../../domain/api-staff.js';
import type { StaffAccountService, StaffAccountView } from '../../services/staff-accounts.js';
import { actorOf, type AuthHooks } from '../auth.js';
import type { RouteGuards } from '../guards.js';
import { emptyBody } from '../schemas.js';

export interface StaffAccountRouteOptions {
  staff: StaffAccountService;
  auth: AuthHooks;
  /** With them, sign-in is counted per client address before its body is read (guards.ts). */
  guards?: RouteGuards;
}

const Closed = { additionalProperties: false } as const;
// Letters (Vietnamese included), digits, spaces, dots, apostrophes and hyphens; starts with a letter or digit.
const Name = Type.String({ minLength: 1, maxLength: 80, pattern: "^[\\p{L}\\p{M}\\p{N}][\\p{L}\\p{M}\\p{N} .'-]*$" });
const Pin = Type.String({ minLength: 6, maxLength: 8, pattern: '^[0-9]{6,8}$' });
const Totp = Type.String({ minLength: 6, maxLength: 6, pattern: '^[0-9]{6}$' });
const IdParams = Type.Object({ id: Type.String({ pattern: '^[1-9][0-9]{0,14}$' }) }, Closed);
/** No body, `null` or `{}`. */
const NoBody = Type.Unsafe<Record<string, never> | null>({ ...emptyBody, type: ['object', 'null'] });
const errors = {
  400: ErrorAnswer,
  401: ErrorAnswer,
  403: ErrorAnswer,
  404: ErrorAnswer,
  409: ErrorAnswer,
  429: ErrorAnswer,
  503: ErrorAnswer,
};

const BEARER = /^Bearer (.+)$/;

function view(a: StaffAccountView): AccountView {
  return {
    id: a.id,
    name: a.name,
    role: a.role,
    touchscreen: a.touchscreen,
    createdAt: a.createdAt.toISOString(),
    createdBy: a.createdBy,
    disabledAt: a.disabledAt?.toISOString() ?? null,
    lockedUntil: a.lockedUntil?.toISOString() ?? null,
  };
}

/** The bearer token of a request that passed `requireRole`. */
function bearer(request: FastifyRequest): string {
  return BEARER.exec(request.headers.authorization ?? '')?.[1] ?? '';
}

export async function staffAccountRoutes(fastify: FastifyInstance, opts: StaffAccountRouteOptions) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { staff } = opts;
  const signedIn = opts.auth.staff;
  const admin = opts.auth.admin;

  app.post(
    '/api/admin/staff',
    {
      onRequest: admin,
      schema: {
        summary: 'Creates a staff or admin account (with touchscreen sign-in: PIN and authenticator)',
        body: Type.Object(
          {
            name: Name,
            role: Type.Unsafe<'staff' | 'admin'>({ type: 'string', enum: ['staff', 'admin'] }),
            withTouchscreen: Type.Boolean(),
            pin: Type.Optional(Pin),
          },
          Closed,
        ),
        response: { 201: AccountCreated, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(await staff.create(request.body, actorOf(request))),
  );

  app.get(
    '/api/admin/staff',
    {
      onRequest: admin,
      schema: { summary: 'Every account, as an admin sees it', response: { 200: AccountList, ...errors } },
    },
    async () => (await staff.list()).map(view),
  );

  app.post(
    '/api/admin/staff/:id/disable',
    {
      onRequest: admin,
      schema: {
        summary: 'Disables an account: its token and every session stop working at once',
        params: IdParams,
        body: NoBody,
        response: { 200: AccountDisabled, ...errors },
      },
    },
    async (request) => {
      const disabled = await staff.disable(Number(request.params.id), actorOf(request));
      return { ...view(disabled), sessionsRevoked: disabled.sessionsRevoked };
    },
  );

  app.post(
    '/api/admin/staff/:id/token',
    {
      onRequest: admin,
      schema: {
        summary: 'A new permanent token for an account; the old one stops working',
        params: IdParams,
        body: NoBody,
        response: { 200: TokenRotated, ...errors },
      },
    },
    async (request) => staff.rotateToken(Number(request.params.id), actorOf(request)),
  );

  app.post(
    '/api/staff/sign-in',
    {
      onRequest: opts.guards ? [opts.guards.signIn] : [],
      schema: {
        summary: 'Touchscreen sign-in with a PIN and an authenticator code: a session token',
        body: Type.Object({ name: Name, pin: Pin, totp: Totp }, Closed),
        response: { 200: SignedIn, ...errors },
      },
    },
    async (request) => {
      const signIn = await staff.signIn(request.body);
      return { token: signIn.token, expiresAt: signIn.expiresAt.toISOString(), account: signIn.account };
    },
  );

  app.post(
    '/api/staff/sign-out',
    {
      onRequest: signedIn,
      schema: { summary: 'Ends a touchscreen session', body: NoBody, response: { 200: SignedOut, ...errors } },
    },
    async (request) => ({ signedOut: await staff.signOut(bearer(request)) }),
  );

  app.get(
    '/api/staff/me',
    {
      onRequest: signedIn,
      schema: { summary: 'The signed-in account, and when its session ends', response: { 200: Me, ...errors } },
    },
    async (request) => {
      const expiresAt = await staff.sessionExpiry(bearer(request));
      const account = request.account!;
      return {
        id: account.id,
        name: account.name,
        role: account.role,
        via: expiresAt ? ('session' as const) : ('token' as const),
        expiresAt: expiresAt?.toISOString() ?? null,
      };
    },
  );
}
