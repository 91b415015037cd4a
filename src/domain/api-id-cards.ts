/**
 * Citizen ID card scans at the kiosk (src/http/routes/id-cards.ts, docs/id-card.md): the request
 * and answer as JSON schemas (TypeBox) with the types derived from them, for the routes, the
 * OpenAPI document and the kiosk (`import type`).
 */
import Type, { type Static } from 'typebox';
import { CARD_QR_MAX_LENGTH } from './citizen-id.js';
import { Obj, Str } from './api.js';
import { ManifestSchema } from './events.js';

/** A scan, by its id: what a deposit (`idScanId`) or a pickup names. */
export const SCAN_ID = { pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' } as const;
export const ScanIdField = (description: string) => Type.String({ ...SCAN_ID, description });

/** `POST /api/id-cards/scans` */
export const CardScanRequest = Obj(
  {
    text: Type.String({
      minLength: 1,
      maxLength: CARD_QR_MAX_LENGTH + 2,
      description: 'the text of the QR code on the back of a chip citizen ID card, as the scanner read it (a trailing CR/LF is allowed)',
    }),
  },
  'A citizen ID card read by the kiosk page (a keyboard-wedge scanner).',
);
export type CardScanRequest = Static<typeof CardScanRequest>;

/** A scan as the kiosk is told of it: whose card, never the whole number. */
export const CardScan = Obj(
  {
    scanId: ScanIdField('the scan, kept 5 minutes in memory: name it as `idScanId` in POST /api/deposits'),
    fullName: Str("the holder's full name as the card prints it"),
    idNumberMasked: Str('the ID number with all but its last four digits hidden (••••••••1234)'),
  },
  'A citizen ID card scanned: only the number and the name are kept, in memory, for 5 minutes.',
);
export type CardScan = Static<typeof CardScan>;

/** `POST /api/sim/id-card`: optional (no body, `null` or `{}`: the sample card). */
export const SimCardRequest = Type.Unsafe<{ text?: string } | null>({
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    text: {
      type: 'string',
      minLength: 1,
      maxLength: CARD_QR_MAX_LENGTH + 2,
      description: 'the QR text to present; absent: the sample card',
    },
  },
  description: "A card presented to the simulated cabinet's ID card scanner.",
});
export type SimCardRequest = Static<typeof SimCardRequest>;

export const SimCardPresented = Obj(
  { presented: Type.Literal(true, { description: 'the scanner read it: a card becomes a scan on the stream, anything else is refused' }) },
  'The card was presented to the simulated scanner.',
);

/** The depositor of a deposit made with a scanned card, as the officer's round screen shows it. */
export const CardHolderView = Obj(
  {
    fullName: Str("the depositor's full name as the card prints it"),
    idNumberMasked: Str('the ID number with all but its last four digits hidden (••••••••1234)'),
  },
  'The depositor, read from the citizen ID card scanned at the deposit (absent for a deposit made without one).',
);
export type CardHolderView = Static<typeof CardHolderView>;

const ManifestCollectItem = ManifestSchema.properties.collect.items;

/**
 * A round's manifest as the staff API answers it: the published one (`rounds/next`, which names
 * nobody) with the depositor of each deposit made with a scanned card.
 */
export const StaffManifest = Obj(
  {
    ...ManifestSchema.properties,
    collect: Type.Array(Obj({ ...ManifestCollectItem.properties, holder: Type.Optional(CardHolderView) }), {
      description: 'deposits to take out; `holder` for those made with a scanned citizen ID card',
    }),
  },
  'The next (or running) collection round and what it will do, with the depositors read from ID cards.',
);
export type StaffManifest = Static<typeof StaffManifest>;
