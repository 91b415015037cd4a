-- The citizens' satisfaction ratings (src/domain/ratings.ts, docs/api.md "Ratings").
--
-- rating_tokens: one row per deposit or pickup whose code was checked, written in the code
-- check's transaction: the digest of the single-use token the kiosk was given, and what a rating
-- of that visit may say (the service, the procedure). Nothing names the dossier, the deposit,
-- the result, the challenge or the phone. Deleted once expired (the flow timers' sweep).
CREATE TABLE rating_tokens (
  locker_id      text NOT NULL,
  token_hash     text NOT NULL,
  service        text NOT NULL CHECK (service IN ('deposit', 'pickup')),
  procedure_code text,
  expires_at     timestamptz NOT NULL,
  used           boolean NOT NULL DEFAULT false,
  PRIMARY KEY (locker_id, token_hash)
);
CREATE INDEX rating_tokens_expiry ON rating_tokens (locker_id, expires_at);

-- ratings: what is kept of a rating, and nothing else: no token, no id, no exact time (the hour
-- it was given in, truncated). Not personal data: kept for the figures.
CREATE TABLE ratings (
  locker_id      text NOT NULL,
  service        text NOT NULL CHECK (service IN ('deposit', 'pickup')),
  procedure_code text,
  rating         text NOT NULL CHECK (rating IN ('very_satisfied', 'satisfied', 'neutral', 'dissatisfied')),
  reasons        text[] NOT NULL DEFAULT '{}'
                 CHECK (reasons <@ ARRAY['waiting', 'machine_fault', 'instructions_unclear', 'staff', 'other']::text[]),
  hour           timestamptz NOT NULL,
  CHECK (cardinality(reasons) = 0 OR rating IN ('neutral', 'dissatisfied'))
);
CREATE INDEX ratings_locker_hour ON ratings (locker_id, hour);
