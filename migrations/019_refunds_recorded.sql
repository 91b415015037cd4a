-- A transfer due back is closed by an admin once the money went back to the payer: when, by whom,
-- and the bank's reference of the refund (what the accounts office matches it with). The three are
-- set together, and only on a transfer with something due back.
ALTER TABLE transfers
  ADD COLUMN refunded_by text,
  ADD COLUMN refund_reference text,
  ADD CONSTRAINT transfers_refund_recorded CHECK (
    (refunded_at IS NULL AND refunded_by IS NULL AND refund_reference IS NULL)
    OR (refunded_at IS NOT NULL AND refunded_by IS NOT NULL AND refund_reference IS NOT NULL AND refund_due > 0)
  );
