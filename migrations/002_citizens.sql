-- Citizens: one-time-code challenges, dossiers (deposits and results) with their transitions,
-- per-phone failure counts, and the SMS log. Phone numbers are stored only as a keyed hash
-- (lookup) and encrypted (sending); one-time codes only as a keyed hash.

CREATE TABLE challenges (
  id              uuid PRIMARY KEY,
  locker_id       text NOT NULL,
  purpose         text NOT NULL CHECK (purpose IN ('deposit', 'pickup')),
  phone_hash      text NOT NULL,
  phone_enc       text NOT NULL,
  procedure_code  text,
  -- null for a pickup with nothing waiting: no code was sent, every entry is wrong
  otp_hash        text,
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'verified', 'failed', 'expired')),
  attempts        integer NOT NULL DEFAULT 0,
  sends           integer NOT NULL DEFAULT 1,
  created_at      timestamptz NOT NULL,
  sent_at         timestamptz NOT NULL,
  expires_at      timestamptz NOT NULL,
  verified_at     timestamptz
);
CREATE INDEX challenges_phone ON challenges (phone_hash, sent_at DESC);
CREATE INDEX challenges_locker ON challenges (locker_id, sent_at DESC);

-- Every code sent, for the send caps (a resend is a row too).
CREATE TABLE otp_sends (
  id          bigserial PRIMARY KEY,
  locker_id   text NOT NULL,
  phone_hash  text NOT NULL,
  at          timestamptz NOT NULL
);
CREATE INDEX otp_sends_phone ON otp_sends (phone_hash, at DESC);
CREATE INDEX otp_sends_locker ON otp_sends (locker_id, at DESC);

-- Failed entries per phone across codes; a new code does not reset them, a right code does.
CREATE TABLE phone_guards (
  phone_hash      text PRIMARY KEY,
  failures        integer NOT NULL DEFAULT 0,
  last_failure_at timestamptz,
  locked_until    timestamptz
);

CREATE TABLE dossiers (
  id              uuid PRIMARY KEY,
  locker_id       text NOT NULL,
  code            text NOT NULL UNIQUE,
  kind            text NOT NULL CHECK (kind IN ('deposit', 'result')),
  procedure_code  text NOT NULL,
  phone_hash      text NOT NULL,
  phone_enc       text NOT NULL,
  status          text NOT NULL CHECK (status IN (
                    'verified', 'tray_open', 'deposited', 'collected', 'cancelled', 'missing',
                    'loading', 'loaded', 'notified', 'picked_up', 'expired', 'returned_to_counter')),
  tray            integer,
  challenge_id    uuid REFERENCES challenges(id),
  created_at      timestamptz NOT NULL,
  opened_at       timestamptz,
  door_opened_at  timestamptz,
  deposited_at    timestamptz,
  collected_at    timestamptz,
  loaded_at       timestamptz,
  notified_at     timestamptz,
  pickup_deadline timestamptz,
  reminded_at     timestamptz,
  picked_up_at    timestamptz,
  expired_at      timestamptz,
  returned_at     timestamptz,
  cancelled_at    timestamptz,
  updated_at      timestamptz NOT NULL
);
CREATE INDEX dossiers_phone ON dossiers (phone_hash, status);
CREATE INDEX dossiers_status ON dossiers (locker_id, status);
-- No two live dossiers ever hold one tray.
CREATE UNIQUE INDEX dossiers_one_per_tray ON dossiers (locker_id, tray)
  WHERE tray IS NOT NULL AND status IN ('tray_open', 'deposited', 'loading', 'loaded', 'notified', 'expired');

-- Every transition of a dossier, in the transaction that makes it.
CREATE TABLE dossier_transitions (
  id          bigserial PRIMARY KEY,
  dossier_id  uuid NOT NULL REFERENCES dossiers(id),
  at          timestamptz NOT NULL,
  from_status text,
  to_status   text NOT NULL,
  actor       text NOT NULL,
  details     jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX dossier_transitions_dossier ON dossier_transitions (dossier_id, id);

-- Texts sent. The text itself is kept only for notices (to retry them); never for codes.
CREATE TABLE sms_messages (
  id                  uuid PRIMARY KEY,
  locker_id           text NOT NULL,
  kind                text NOT NULL,
  phone_hash          text NOT NULL,
  dossier_id          uuid,
  status              text NOT NULL CHECK (status IN ('sending', 'sent', 'failed', 'delivered', 'undelivered')),
  attempts            integer NOT NULL DEFAULT 0,
  provider_message_id text,
  segments            integer,
  last_error          text,
  created_at          timestamptz NOT NULL,
  sent_at             timestamptz,
  delivered_at        timestamptz
);
CREATE INDEX sms_messages_locker ON sms_messages (locker_id, created_at DESC);
CREATE INDEX sms_messages_provider ON sms_messages (provider_message_id);

-- Doors held open: when a door opened (for the held-open alarm) and whether the alarm was raised.
ALTER TABLE trays ADD COLUMN door_open_since timestamptz;
ALTER TABLE trays ADD COLUMN held_open_alarm_at timestamptz;
