/**
 * The kiosk's routes: deposit, pickup and lookup (no sign-in: the phone and its code are the proof),
 * the free trays per size its procedure list shows, and the rating of a visit.
 * With `guards`, asking for a code is counted per client address, asking for or checking a code,
 * following a pickup and rating are the kiosk's alone (403 KIOSK_ONLY), and lookups by dossier code
 * are counted too (guards.ts).
 */
import type { FastifyInstance } from 'fastify';
import type { DepositService } from '../../services/deposits.js';
import type { DossierLookup } from '../../services/lookup.js';
import type { PickupService } from '../../services/pickups.js';
import type { PaymentRow } from '../../services/ports.js';
import type { RatingService } from '../../services/ratings.js';
import {
  CodeIssued,
  DepositOpened,
  DepositView,
  DossierStatusView,
  FreeTrays,
  PickupIdentityRequest,
  PickupOpened,
  PickupResultView,
  type PaymentView,
  RatingRecorded,
  RatingRequest,
} from '../../domain/api.js';
import { ScanIdField } from '../../domain/api-id-cards.js';
import { errorSchema } from '../errors.js';
import type { RouteGuards } from '../guards.js';
import { freeText } from '../schemas.js';

const UUID = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
const challengeParams = {
  type: 'object',
  additionalProperties: false,
  required: ['challengeId'],
  properties: { challengeId: { type: 'string', pattern: UUID } },
} as const;
const otpBody = {
  type: 'object',
  additionalProperties: false,
  required: ['otp'],
  // The configured length (citizens.otp.length) is checked by the service, before it costs a try.
  properties: { otp: { type: 'string', pattern: '^[0-9]{6,10}$' } },
} as const;
const phone = freeText(32);
const issued = CodeIssued;
const errors = {
  400: errorSchema,
  403: errorSchema,
  404: errorSchema,
  409: errorSchema,
  410: errorSchema,
  429: errorSchema,
  502: errorSchema,
  503: errorSchema,
};

function issuedView(c: { challengeId: string; expiresAt: Date; resendAt: Date; codeLength: number }) {
  return { challengeId: c.challengeId, expiresAt: c.expiresAt.toISOString(), resendAt: c.resendAt.toISOString(), codeLength: c.codeLength };
}

export async function citizenRoutes(
  app: FastifyInstance,
  opts: {
    deposits: DepositService;
    pickups: PickupService;
    lookup: DossierLookup;
    ratings?: RatingService;
    guards?: RouteGuards;
    /** A fee-charging deposit's payment with its QR (routes/payments.ts). */
    paymentView?: (p: PaymentRow) => Promise<PaymentView>;
  },
) {
  const { deposits, pickups, lookup, ratings, guards, paymentView } = opts;
  // Checked before the body is read: the count first, then the address.
  const askCode = guards ? [guards.codeRequests, guards.kioskOnly] : [];
  const checkCode = guards ? [guards.kioskOnly] : [];
  const lookupByCode = guards ? [guards.dossierLookup] : [];

  // A procedure chosen from the list (procedureCode), or a dossier filed online by its number
  // (onlineNumber, ADR 0029): exactly one, checked by the service (VALIDATION_FAILED otherwise).
  app.post<{ Body: { phone: string; procedureCode?: string; onlineNumber?: string; idScanId?: string } }>(
    '/api/deposits',
    {
      onRequest: askCode,
      schema: {
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['phone'],
          properties: {
            phone,
            procedureCode: { type: 'string', pattern: '^[A-Za-z0-9-]{2,20}$' },
            // The online system's number as typed; its form is the service's to check (DOSSIER_CODE_INVALID).
            onlineNumber: { ...freeText(64), description: "the number the city's online system gave the dossier" },
            // A citizen ID card scanned at the kiosk (POST /api/id-cards/scans): its holder is kept, sealed, on the dossier.
            idScanId: ScanIdField(
              "the depositor's scanned ID card (scanId of POST /api/id-cards/scans); 404 ID_SCAN_NOT_FOUND once expired",
            ),
          },
        },
        response: { 202: issued, ...errors },
      },
    },
    async (request, reply) => {
      const { phone, procedureCode, onlineNumber, idScanId } = request.body;
      const issuedChallenge = await deposits.start({
        phone,
        procedureCode: procedureCode?.toUpperCase(),
        onlineNumber,
        ...(idScanId ? { idScanId: idScanId.toLowerCase() } : {}),
      });
      return reply.status(202).send(issuedView(issuedChallenge));
    },
  );

  app.post<{ Params: { challengeId: string }; Body: { otp: string } }>(
    '/api/deposits/:challengeId/verify',
    {
      onRequest: checkCode,
      schema: {
        params: challengeParams,
        body: otpBody,
        response: { 200: DepositOpened, ...errors },
      },
    },
    async (request) => {
      const { payment, ...opened } = await deposits.verify(request.params.challengeId.toLowerCase(), request.body.otp);
      return payment && paymentView ? { ...opened, payment: await paymentView(payment) } : opened;
    },
  );

  app.post<{ Params: { challengeId: string } }>(
    '/api/deposits/:challengeId/resend',
    {
      onRequest: askCode,
      schema: { params: challengeParams, response: { 202: issued, ...errors } },
    },
    async (request, reply) => reply.status(202).send(issuedView(await deposits.resend(request.params.challengeId.toLowerCase()))),
  );

  app.get<{ Params: { id: string } }>(
    '/api/deposits/:id',
    {
      schema: {
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: UUID } } },
        response: { 200: DepositView, ...errors },
      },
    },
    async (request) => deposits.get(request.params.id.toLowerCase()),
  );

  // The procedure list says which sizes have no tray free before anyone types a number. Counts
  // only, no personal data, nothing a dossier code would unlock: not counted as a lookup.
  app.get(
    '/api/trays/free',
    {
      schema: {
        summary: 'Free deposit trays per dossier size (the kiosk marks procedures with none)',
        response: { 200: FreeTrays, ...errors },
      },
    },
    async () => deposits.freeTrays(),
  );

  app.post<{ Body: { phone: string } }>(
    '/api/pickups',
    {
      onRequest: askCode,
      schema: {
        body: { type: 'object', additionalProperties: false, required: ['phone'], properties: { phone } },
        response: { 202: issued, ...errors },
      },
    },
    async (request, reply) => reply.status(202).send(issuedView(await pickups.start({ phone: request.body.phone }))),
  );

  app.post<{ Params: { challengeId: string }; Body: { otp: string } }>(
    '/api/pickups/:challengeId/verify',
    {
      onRequest: checkCode,
      schema: {
        params: challengeParams,
        body: otpBody,
        response: { 200: PickupOpened, ...errors },
      },
    },
    async (request) => pickups.verify(request.params.challengeId.toLowerCase(), request.body.otp),
  );

  // The ID cards' second step (ADR 0028): the holder's number after the right code. The kiosk's
  // alone, like the code check; the number is checked by the service and never logged.
  app.post<{ Params: { challengeId: string }; Body: PickupIdentityRequest }>(
    '/api/pickups/:challengeId/identity',
    {
      onRequest: checkCode,
      schema: {
        summary: "An ID-card pickup's second step: the holder's ID number (typed, or a scan of the old card) opens the trays it matches",
        params: challengeParams,
        body: PickupIdentityRequest,
        response: { 200: PickupOpened, ...errors },
      },
    },
    async (request) => {
      const body = request.body;
      const proof = 'scanId' in body ? { scanId: body.scanId.toLowerCase() } : { idNumber: body.idNumber };
      return pickups.identity(request.params.challengeId.toLowerCase(), proof);
    },
  );

  // What the kiosk follows after a pickup opened trays: by an id only that answer gave (like
  // GET /api/deposits/:id), so not counted against the kiosk's lookups by dossier code. The
  // kiosk's alone: result ids also travel in the events the district reads.
  app.get<{ Params: { resultId: string } }>(
    '/api/pickups/results/:resultId',
    {
      onRequest: checkCode,
      schema: {
        params: { type: 'object', required: ['resultId'], properties: { resultId: { type: 'string', pattern: UUID } } },
        response: { 200: PickupResultView, ...errors },
      },
    },
    async (request) => pickups.result(request.params.resultId.toLowerCase()),
  );

  app.post<{ Params: { challengeId: string } }>(
    '/api/pickups/:challengeId/resend',
    {
      onRequest: askCode,
      schema: { params: challengeParams, response: { 202: issued, ...errors } },
    },
    async (request, reply) => reply.status(202).send(issuedView(await pickups.resend(request.params.challengeId.toLowerCase()))),
  );

  // One rating of a deposit or a pickup just done, with the token its code check gave (the proof
  // that the visit happened, spent by the rating). The kiosk's alone, like the code routes.
  if (ratings) {
    app.post<{ Body: RatingRequest }>(
      '/api/ratings',
      {
        onRequest: checkCode,
        schema: {
          summary: "A citizen's satisfaction rating of the deposit or pickup just done (one per visit)",
          body: RatingRequest,
          response: { 201: RatingRecorded, ...errors },
        },
      },
      async (request, reply) => reply.status(201).send(await ratings.rate(request.body)),
    );
  }

  app.get<{ Params: { dossierCode: string } }>(
    '/api/dossiers/:dossierCode',
    {
      onRequest: lookupByCode,
      schema: {
        params: {
          type: 'object',
          required: ['dossierCode'],
          properties: { dossierCode: freeText(32) },
        },
        response: { 200: DossierStatusView, ...errors },
      },
    },
    async (request) => lookup.byCode(request.params.dossierCode),
  );
}
