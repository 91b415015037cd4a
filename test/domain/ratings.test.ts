import t from 'tap';
import { AppError } from '../../src/domain/errors.js';
import { ratingHour, ratingReasons, satisfiedShare } from '../../src/domain/ratings.js';

t.test('the hour kept with a rating: truncated, the local hour in Ho Chi Minh City', async (t) => {
  // 21:59:59.999 on 24 November 2026 in Ho Chi Minh City (UTC+7).
  const at = new Date('2026-11-24T14:59:59.999Z');
  t.equal(ratingHour(at).toISOString(), '2026-11-24T14:00:00.000Z');
  t.equal(ratingHour(at).toLocaleString('en-GB', { timeZone: 'Asia/Ho_Chi_Minh' }), '24/11/2026, 21:00:00', '21:00 local');
  t.equal(ratingHour(new Date('2026-11-24T15:00:00.000Z')).toISOString(), '2026-11-24T15:00:00.000Z', 'an hour on the hour stays');
});

t.test('reasons: with the last two faces only, each once, in the catalogue order', async (t) => {
  t.same(ratingReasons('dissatisfied', ['staff', 'waiting', 'staff']), ['waiting', 'staff']);
  t.same(ratingReasons('neutral'), []);
  t.same(ratingReasons('very_satisfied', []), []);
  for (const [rating, reasons] of [
    ['satisfied', ['waiting']],
    ['very_satisfied', ['other']],
    ['neutral', ['rude']],
  ] as const) {
    let refused: unknown = null;
    try {
      ratingReasons(rating, reasons);
    } catch (err) {
      refused = err;
    }
    t.ok(
      refused instanceof AppError && refused.code === 'VALIDATION_FAILED' && refused.status === 400,
      `${rating} with ${reasons.join(', ')}: refused`,
    );
  }
});

t.test('the share of satisfied citizens', async (t) => {
  t.equal(satisfiedShare({ very_satisfied: 0, satisfied: 0, neutral: 0, dissatisfied: 0 }), null, 'none without a rating');
  t.equal(satisfiedShare({ very_satisfied: 2, satisfied: 1, neutral: 0, dissatisfied: 1 }), 0.75);
  t.equal(satisfiedShare({ very_satisfied: 0, satisfied: 0, neutral: 3, dissatisfied: 1 }), 0);
});
