/**
 * The citizen's satisfaction rating after a deposit or a pickup (issue 12): four faces, optional
 * reasons with the last two, and nothing that names a person, a dossier or a visit. What is kept
 * of a rating: the service, the procedure, the face, the reasons and the hour it was given in.
 *
 * A rating is given with a single-use token that the deposit's or the pickup's code check handed
 * to the kiosk (one visit, one rating); the token is kept only as a digest beside what the rating
 * may say (service, procedure), and only until it expires.
 */
import { AppError } from './errors.js';

/** The four faces, best first. */
export const RATINGS = ['very_satisfied', 'satisfied', 'neutral', 'dissatisfied'] as const;
export type Rating = (typeof RATINGS)[number];

/** Why a citizen was not satisfied (neutral or dissatisfied): chips on the kiosk, any number of them. */
export const RATING_REASONS = ['waiting', 'machine_fault', 'instructions_unclear', 'staff', 'other'] as const;
export type RatingReason = (typeof RATING_REASONS)[number];

/** What the citizen had just done at the machine. */
export const RATED_SERVICES = ['deposit', 'pickup'] as const;
export type RatedService = (typeof RATED_SERVICES)[number];

/** The faces counted as satisfied in the share the admins see. */
export const SATISFIED_RATINGS: readonly Rating[] = ['very_satisfied', 'satisfied'];
/** The faces reasons may be given with. */
export const RATINGS_WITH_REASONS: readonly Rating[] = ['neutral', 'dissatisfied'];

/**
 * How long after the code check a rating may be given: the door's time to open (60 s), a pickup
 * of several trays, the receipt read and noted, with room to spare.
 */
export const RATING_WINDOW_MS = 15 * 60_000;

const HOUR_MS = 3_600_000;

/**
 * The only time kept with a rating: the hour it was given in, truncated. An hour of UTC, which is
 * the locker's local hour in any whole-hour time zone (Asia/Ho_Chi_Minh is UTC+7).
 */
export function ratingHour(at: Date): Date {
  return new Date(Math.floor(at.getTime() / HOUR_MS) * HOUR_MS);
}

/**
 * The reasons as stored: each once, in the catalogue's order. Refused (400 VALIDATION_FAILED) with
 * a face that takes none, or a reason that is not in the catalogue.
 */
export function ratingReasons(rating: Rating, reasons: readonly string[] = []): RatingReason[] {
  const unknown = reasons.find((r) => !(RATING_REASONS as readonly string[]).includes(r));
  if (unknown !== undefined) throw new AppError('VALIDATION_FAILED', `reasons: "${unknown}" is not a reason of the catalogue`);
  if (reasons.length && !RATINGS_WITH_REASONS.includes(rating)) {
    throw new AppError('VALIDATION_FAILED', `reasons are given with ${RATINGS_WITH_REASONS.join(' or ')} only`);
  }
  return RATING_REASONS.filter((r) => reasons.includes(r));
}

export type RatingCounts = Record<Rating, number>;

/** Very satisfied and satisfied over every rating; null with none. */
export function satisfiedShare(counts: RatingCounts): number | null {
  const total = RATINGS.reduce((n, r) => n + counts[r], 0);
  return total ? SATISFIED_RATINGS.reduce((n, r) => n + counts[r], 0) / total : null;
}
