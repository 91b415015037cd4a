/**
 * Staff accounts: admins create, list and disable accounts and rotate their tokens; officers sign
 * in at the touchscreen with a PIN and an authenticator code, and sign out.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { StaffAccountService, StaffAccountView } from '../../services/staff-accounts.js';
import { actorOf, requireRole, type FindAccount } from '../auth.js';
import { errorSchema } from '../errors.js';
import type { RouteGuards } from '../guards.js';
import { emptyBody } from '../schemas.js';

export interface StaffAccountRouteOptions {
  staff: StaffAccountService;
  findAccount: FindAccount;
  /** With them, sign-in is counted per client address before its body is read (guards.ts). */
  guards?: RouteGuards;
}

// Letters (Vietnamese included), digits, spaces, dots, apostrophes and hyphens; starts with a letter or digit.
const name = { type: 'string', minLength: 1, maxLength: 80, pattern: "^[\\p{L}\\p{M}\\p{N}][\\p{L}\\p{M}\\p{N} .'-]*$" } as const;
const pin = { type: 'string', minLength: 6, maxLength: 8, pattern: '^[0-9]{6,8}$' } as const;
const totp = { type: 'string', minLength: 6, maxLength: 6, pattern: '^[0-9]{6}$' } as const;
const idParams = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^[1-9][0-9]{0,14}$' } },
} as const;
const accountSchema = {
  type: 'object',
  required: ['id', 'name', 'role'],
  properties: { id: { type: 'integer' }, name: { type: 'string' }, role: { type: 'string' } },
} as const;
const viewSchema = {
  type: 'object',
  required: ['id', 'name', 'role', 'touchscreen', 'createdAt', 'createdBy', 'disabledAt', 'lockedUntil'],
  properties: {
    ...accountSchema.properties,
    touchscreen: { type: 'boolean' },
    createdAt: { type: 'string' },
    createdBy: { type: ['string', 'null'] },
    disabledAt: { type: ['string', 'null'] },
    lockedUntil: { type: ['string', 'null'] },
  },
} as const;
const errors = { 400: errorSchema, 401: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema, 429: errorSchema };

const BEARER = /^Bearer (.+)$/;

function view(a: StaffAccountView) {
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

export async function staffAccountRoutes(app: FastifyInstance, opts: StaffAccountRouteOptions) {
  const { staff, findAccount } = opts;
  const signedIn = requireRole('staff', findAccount);
  const admin = requireRole('admin', findAccount);

  app.post<{ Body: { name: string; role: 'staff' | 'admin'; withTouchscreen: boolean; pin?: string } }>(
    '/api/admin/staff',
    {
      preHandler: admin,
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'role', 'withTouchscreen'],
          properties: { name, role: { type: 'string', enum: ['staff', 'admin'] }, withTouchscreen: { type: 'boolean' }, pin },
        },
        response: {
          201: {
            type: 'object',
            required: ['id', 'name', 'role', 'token'],
            properties: {
              ...accountSchema.properties,
              token: { type: 'string' },
              totpUri: { type: 'string' },
              totpSecret: { type: 'string' },
            },
          },
          ...errors,
        },
      },
    },
    async (request, reply) => reply.status(201).send(await staff.create(request.body, actorOf(request))),
  );

  app.get(
    '/api/admin/staff',
    {
      preHandler: admin,
      schema: { response: { 200: { type: 'array', items: viewSchema }, ...errors } },
    },
    async () => (await staff.list()).map(view),
  );

  app.post<{ Params: { id: string } }>(
    '/api/admin/staff/:id/disable',
    {
      preHandler: admin,
      schema: {
        params: idParams,
        body: { ...emptyBody, type: ['object', 'null'] },
        response: {
          200: {
            ...viewSchema,
            required: [...viewSchema.required, 'sessionsRevoked'],
            properties: { ...viewSchema.properties, sessionsRevoked: { type: 'integer' } },
          },
          ...errors,
        },
      },
    },
    async (request) => {
      const disabled = await staff.disable(Number(request.params.id), actorOf(request));
      return { ...view(disabled), sessionsRevoked: disabled.sessionsRevoked };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/admin/staff/:id/token',
    {
      preHandler: admin,
      schema: {
        params: idParams,
        body: { ...emptyBody, type: ['object', 'null'] },
        response: {
          200: {
            ...accountSchema,
            required: [...accountSchema.required, 'token'],
            properties: { ...accountSchema.properties, token: { type: 'string' } },
          },
          ...errors,
        },
      },
    },
    async (request) => staff.rotateToken(Number(request.params.id), actorOf(request)),
  );

  app.post<{ Body: { name: string; pin: string; totp: string } }>(
    '/api/staff/sign-in',
    {
      onRequest: opts.guards ? [opts.guards.signIn] : [],
      schema: {
        body: { type: 'object', additionalProperties: false, required: ['name', 'pin', 'totp'], properties: { name, pin, totp } },
        response: {
          200: {
            type: 'object',
            required: ['token', 'expiresAt', 'account'],
            properties: { token: { type: 'string' }, expiresAt: { type: 'string' }, account: accountSchema },
          },
          ...errors,
        },
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
      preHandler: signedIn,
      schema: {
        body: { ...emptyBody, type: ['object', 'null'] },
        response: { 200: { type: 'object', required: ['signedOut'], properties: { signedOut: { type: 'boolean' } } }, ...errors },
      },
    },
    async (request) => ({ signedOut: await staff.signOut(bearer(request)) }),
  );

  app.get(
    '/api/staff/me',
    {
      preHandler: signedIn,
      schema: {
        response: {
          200: {
            type: 'object',
            required: ['id', 'name', 'role', 'via', 'expiresAt'],
            properties: {
              ...accountSchema.properties,
              via: { type: 'string', enum: ['session', 'token'] },
              expiresAt: { type: ['string', 'null'] },
            },
          },
          ...errors,
        },
      },
    },
    async (request) => {
      const expiresAt = await staff.sessionExpiry(bearer(request));
      const account = request.account!;
      return {
        id: account.id,
        name: account.name,
        role: account.role,
        via: expiresAt ? 'session' : 'token',
        expiresAt: expiresAt?.toISOString() ?? null,
      };
    },
  );
}
