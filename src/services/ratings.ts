/**
 * The citizens' satisfaction ratings (issue 12). A deposit's or a pickup's code check hands the
 * kiosk a single-use token, in its own transaction (`issue`); the kiosk sends one rating with it
 * (`rate`): the rating is stored and its `rating.given` event written in one transaction, the token
 * spent. Neither the rating nor its event keeps the token or anything that names the visit; the
 * token's digest stays only until it expires (`sweep`), so that a second rating of the same visit
 * is refused as such rather than as unknown.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { AppError } from '../domain/errors.js';
import { RATING_WINDOW_MS, ratingHour, ratingReasons, type RatedService, type Rating, type RatingReason } from '../domain/ratings.js';
import type { Database, EventOutbox, Queryable, RatingStore } from './ports.js';

export interface RatingServiceDeps {
  db: Database;
  ratings: RatingStore;
  outbox: EventOutbox;
  clock: Clock;
  /** How long a token stays valid; RATING_WINDOW_MS by default. */
  windowMs?: number;
  /** A new token: 32 random bytes, base64url (43 characters), unless given (tests). */
  newToken?: () => string;
  logger?: Logger;
}

/** What was kept of a rating. */
export interface RatingRecorded {
  service: RatedService;
  procedureCode?: string;
  rating: Rating;
  reasons: RatingReason[];
  hour: string;
}

/** A token's digest: what is stored, so the table alone cannot rate anything. */
export function ratingTokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Expired tokens are deleted this often at most. */
const SWEEP_EVERY_MS = 60_000;

export class RatingService {
  /** When the last sweep ran (the injected clock's ms); null before the first. */
  private sweptAt: number | null = null;

  constructor(private readonly deps: RatingServiceDeps) {}

  /**
   * In the caller's transaction (a code check that opened trays): a token for one rating of this
   * visit. `procedureCode`: the deposit's, or the results' when all are of one procedure.
   */
  async issue(q: Queryable, service: RatedService, procedureCode: string | null, at: Date): Promise<string | undefined> {
    const token = this.deps.newToken?.() ?? randomBytes(32).toString('base64url');
    const expiresAt = new Date(at.getTime() + (this.deps.windowMs ?? RATING_WINDOW_MS));
    // Under a savepoint: a rating that cannot be offered never costs the citizen the deposit or
    // the pickup it would rate (the code check's transaction goes on without a token).
    await q.query('SAVEPOINT rating_token');
    try {
      await this.deps.ratings.addToken(q, ratingTokenDigest(token), { service, procedureCode, expiresAt });
      await q.query('RELEASE SAVEPOINT rating_token');
      return token;
    } catch (err) {
      await q.query('ROLLBACK TO SAVEPOINT rating_token');
      this.deps.logger?.warn({ err }, 'no rating token (the visit goes on without a rating)');
      return undefined;
    }
  }

  /** One rating with a token `issue` gave: 404 RATING_TOKEN_NOT_FOUND if unknown or expired, 409 RATING_ALREADY_GIVEN if spent. */
  async rate(input: { token: string; rating: Rating; reasons?: readonly string[] }): Promise<RatingRecorded> {
    const { db, ratings, outbox, clock } = this.deps;
    const reasons = ratingReasons(input.rating, input.reasons);
    const digest = ratingTokenDigest(input.token);
    const recorded = await db.tx(async (q) => {
      const now = clock.now();
      const grant = await ratings.lockToken(q, digest);
      if (!grant || grant.expiresAt.getTime() <= now.getTime()) {
        throw new AppError('RATING_TOKEN_NOT_FOUND', 'no rating is open under this token: unknown, or its time is over');
      }
      if (grant.used) throw new AppError('RATING_ALREADY_GIVEN', 'this visit has been rated already');
      const hour = ratingHour(now);
      await ratings.markUsed(q, digest);
      await ratings.insert(q, { service: grant.service, procedureCode: grant.procedureCode, rating: input.rating, reasons, hour });
      const kept: RatingRecorded = {
        service: grant.service,
        ...(grant.procedureCode ? { procedureCode: grant.procedureCode } : {}),
        rating: input.rating,
        reasons,
        hour: hour.toISOString(),
      };
      // The event's time is the hour too: an exact one, published beside the visit's own events, would name the visit.
      await outbox.enqueue(q, 'rating.given', kept, hour);
      return kept;
    });
    outbox.committed();
    // Not logged: a log line's time would tie the rating to the visit's own lines.
    return recorded;
  }

  /**
   * Deletes the tokens past their time; how many. The flow timers call it every pass, it works once
   * a minute at most: `rate` checks the expiry itself, the sweep only keeps digests from lingering.
   */
  async sweep(): Promise<number> {
    const now = this.deps.clock.now().getTime();
    if (this.sweptAt !== null && Math.abs(now - this.sweptAt) < SWEEP_EVERY_MS) return 0;
    const deleted = await this.deps.ratings.deleteExpired(this.deps.db, new Date(now));
    this.sweptAt = now;
    return deleted;
  }
}
