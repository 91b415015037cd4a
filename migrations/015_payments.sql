-- Fees paid by bank transfer (VietQR) and electronic receipts (issue 13; docs/payments.md, ADR 0027).
--
-- payments: one row per fee-charging deposit. `before`: the tray (reserved at the code check,
-- `tray`) opens once a matching transfer arrives, or the deposit is cancelled at `pay_by`;
-- `later`: the tray opens at once and the fee is paid at the counter (`unpaid` until an officer
-- marks it). The reference is what the citizen's transfer text must carry. `failed`: paid, but the
-- tray could not be opened (its transfer is due back).
CREATE TABLE payments (
  id             uuid PRIMARY KEY,
  locker_id      text NOT NULL,
  dossier_id     uuid NOT NULL UNIQUE REFERENCES dossiers(id),
  procedure_code text NOT NULL,
  amount         integer NOT NULL CHECK (amount > 0),
  reference      text NOT NULL UNIQUE,
  mode           text NOT NULL CHECK (mode IN ('before', 'later')),
  status         text NOT NULL CHECK (status IN ('awaiting', 'paid', 'expired', 'cancelled', 'unpaid', 'paid_at_counter', 'failed')),
  tray           integer,
  created_at     timestamptz NOT NULL,
  pay_by         timestamptz,
  paid_at        timestamptz,
  closed_at      timestamptz,
  transfer_id    uuid
);
CREATE INDEX payments_awaiting ON payments (locker_id, pay_by) WHERE status = 'awaiting';

-- transfers: every transfer a provider reported, once per (provider, provider_tx_id), whatever
-- became of it. `refund_due`: what goes back to the payer (0 for a matched one); refunded_at set
-- by an admin once it went back. `description` is the transfer text as received (no phone in it).
CREATE TABLE transfers (
  id             uuid PRIMARY KEY,
  locker_id      text NOT NULL,
  provider       text NOT NULL,
  provider_tx_id text NOT NULL,
  amount         bigint NOT NULL CHECK (amount > 0),
  description    text NOT NULL,
  booked_at      timestamptz NOT NULL,
  received_at    timestamptz NOT NULL,
  reference      text,
  payment_id     uuid REFERENCES payments(id),
  outcome        text NOT NULL CHECK (outcome IN ('matched', 'wrong_amount', 'duplicate', 'late', 'unmatched')),
  refund_due     bigint NOT NULL DEFAULT 0 CHECK (refund_due >= 0),
  refunded_at    timestamptz,
  UNIQUE (locker_id, provider, provider_tx_id)
);
CREATE INDEX transfers_locker_received ON transfers (locker_id, received_at);

-- receipt_series: the last number given per series and year. Taken with UPDATE … RETURNING in the
-- payment's own transaction: a rolled-back payment gives its number back, so numbers have no gaps.
-- Not per locker: lockers sharing a database and a series share its numbers.
CREATE TABLE receipt_series (
  series      text NOT NULL,
  year        integer NOT NULL,
  last_number integer NOT NULL CHECK (last_number >= 0),
  PRIMARY KEY (series, year)
);

-- receipts: what was signed (`body`, canonical JSON of src/domain/receipts.ts) and its Ed25519
-- signature. `fee` receipts carry a series and number; `deposit` receipts (phiếu tiếp nhận) none.
-- voided_at: the fee went back (its deposit could not be made); the page says so.
CREATE TABLE receipts (
  id         text PRIMARY KEY,
  locker_id  text NOT NULL,
  kind       text NOT NULL CHECK (kind IN ('fee', 'deposit')),
  dossier_id uuid NOT NULL REFERENCES dossiers(id),
  payment_id uuid REFERENCES payments(id),
  series     text,
  year       integer,
  number     integer,
  body       jsonb NOT NULL,
  signature  text NOT NULL,
  issued_at  timestamptz NOT NULL,
  voided_at  timestamptz,
  UNIQUE (series, year, number),
  UNIQUE (kind, dossier_id),
  CHECK ((kind = 'fee') = (number IS NOT NULL AND series IS NOT NULL AND year IS NOT NULL AND payment_id IS NOT NULL))
);
CREATE INDEX receipts_locker_issued ON receipts (locker_id, issued_at);
