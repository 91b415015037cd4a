/** Ports: the citizens' satisfaction ratings (src/store/ratings.ts). */
import type { RatedService, Rating, RatingReason } from '../../domain/ratings.js';
import type { Queryable } from './persistence.js';

/** What a rating token allows: one rating of one service (and procedure), until it expires. */
export interface RatingTokenGrant {
  service: RatedService;
  procedureCode: string | null;
  expiresAt: Date;
}

/** A rating as it is kept: nothing that names the visit, the hour instead of the moment. */
export interface RatingRow {
  service: RatedService;
  procedureCode: string | null;
  rating: Rating;
  reasons: RatingReason[];
  hour: Date;
}

export interface RatingStore {
  /** A token's digest and what a rating with it may say. */
  addToken(q: Queryable, tokenHash: string, grant: RatingTokenGrant): Promise<void>;
  /** The token's row, locked until the transaction ends; null when there is none. */
  lockToken(q: Queryable, tokenHash: string): Promise<(RatingTokenGrant & { used: boolean }) | null>;
  markUsed(q: Queryable, tokenHash: string): Promise<void>;
  insert(q: Queryable, rating: RatingRow): Promise<void>;
  /** Deletes the tokens expired at `now`; how many. */
  deleteExpired(q: Queryable, now: Date): Promise<number>;
}
