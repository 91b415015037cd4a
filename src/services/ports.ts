/**
 * Ports the use cases drive, each declared once (one file a theme under ports/). Adapters
 * (hardware/, src/store, src/events, src/sms) implement them; nothing here imports an adapter.
 */
export type * from './ports/hardware.js';
export type * from './ports/persistence.js';
export type * from './ports/citizens.js';
export type * from './ports/sms.js';
export type * from './ports/rounds.js';
export type * from './ports/accounts.js';
export type * from './ports/simulator.js';
export type * from './ports/dashboard.js';
export type * from './ports/retention.js';
export type * from './ports/audit.js';
export type * from './ports/metrics.js';
export type * from './ports/ratings.js';
export type * from './ports/payments.js';
export type * from './ports/id-cards.js';
