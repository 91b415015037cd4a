-- Locker core: lockers, the cabinet map as last applied, tray state, accounts, audit, outbox.

CREATE TABLE lockers (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE boards (
  locker_id   text NOT NULL REFERENCES lockers(id),
  id          text NOT NULL,
  bus         text NOT NULL,
  unit_id     integer NOT NULL,
  profile     text NOT NULL,
  online      boolean NOT NULL DEFAULT true,
  last_fault  text,
  changed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (locker_id, id)
);

-- state: what the tray holds (free, reserved for a flow in progress, a deposit, a result).
-- disabled_reason: set by an admin (maintenance); fault: set while the tray's board does not answer.
-- A tray is out of service when either is set.
CREATE TABLE trays (
  locker_id       text NOT NULL REFERENCES lockers(id),
  number          integer NOT NULL,
  cabinet         text NOT NULL,
  board_id        text NOT NULL,
  lock_channel    integer NOT NULL,
  door_input      integer NOT NULL,
  size            text NOT NULL CHECK (size IN ('S', 'M', 'L')),
  role            text NOT NULL CHECK (role IN ('deposit', 'result', 'both')),
  state           text NOT NULL DEFAULT 'free'
                  CHECK (state IN ('free', 'reserved', 'holding_deposit', 'holding_result')),
  door            text NOT NULL DEFAULT 'unknown' CHECK (door IN ('open', 'closed', 'unknown')),
  released_at     timestamptz,
  disabled_reason text,
  fault           text,
  version         integer NOT NULL DEFAULT 0,
  changed_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (locker_id, number)
);

CREATE TABLE accounts (
  id          bigserial PRIMARY KEY,
  name        text NOT NULL,
  role        text NOT NULL CHECK (role IN ('admin', 'staff')),
  token_hash  text NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  disabled_at timestamptz
);

CREATE TABLE audit_log (
  id         bigserial PRIMARY KEY,
  locker_id  text NOT NULL,
  at         timestamptz NOT NULL DEFAULT now(),
  actor      text NOT NULL,
  action     text NOT NULL,
  subject    text,
  details    jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_locker_at ON audit_log (locker_id, at DESC);

-- Transactional outbox: an event is written in the transaction that causes it and published
-- to MQTT after commit by the relay, which marks it sent.
CREATE TABLE outbox (
  seq        bigserial PRIMARY KEY,
  id         uuid NOT NULL UNIQUE,
  locker_id  text NOT NULL,
  type       text NOT NULL,
  payload    jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at    timestamptz,
  attempts   integer NOT NULL DEFAULT 0
);
CREATE INDEX outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;
