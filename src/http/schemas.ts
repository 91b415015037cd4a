/** JSON schemas shared by routes. */
export const trayNumberParams = {
  type: 'object',
  additionalProperties: false,
  required: ['n'],
  properties: { n: { type: 'string', pattern: '^[0-9]{1,3}$' } },
} as const;

export const trayViewSchema = {
  type: 'object',
  required: ['number', 'cabinet', 'size', 'state', 'door'],
  properties: {
    number: { type: 'integer' },
    cabinet: { type: 'string' },
    size: { type: 'string' },
    role: { type: 'string' },
    state: { type: 'string' },
    door: { type: 'string' },
    board: { type: 'string' },
    outOfServiceReason: { type: ['string', 'null'] },
    fault: { type: ['string', 'null'] },
  },
} as const;

export const emptyBody = { type: 'object', additionalProperties: false, properties: {} } as const;
