-- The audit log becomes a hash chain per locker (docs/adr/0013-audit-hash-chain.md): each row
-- carries its position in its locker's chain (seq, from 1), the hash of the row before it
-- (prev_hash; the first row's is 64 zeros) and its own hash: SHA-256, in hex, of the row's hashed
-- form, PostgreSQL's canonical jsonb text of
--   {prev, locker_id, seq, at (ISO 8601, UTC, microseconds), actor, action, subject, details}
-- where actor is cut to "role:id" for an account ("staff:7:Name" is hashed as "staff:7").
-- src/store/audit-chain.ts computes the same form when a row is written and when the chain is
-- verified; the two must stay identical.
--
-- personal: what an audit row says about a person beyond an account id (an admin's free-text
-- note or out-of-service reason, a new account's name). It is outside the hashed form, so that
-- clearing it (and the name after "role:id" in actor) never breaks the chain.

ALTER TABLE audit_log
  ADD COLUMN personal  jsonb,
  ADD COLUMN seq       bigint,
  ADD COLUMN prev_hash text,
  ADD COLUMN hash      text;

-- Rows written before this migration kept such text in details: it moves to personal first.
UPDATE audit_log SET personal = jsonb_build_object('note', details -> 'note'), details = details - 'note'
  WHERE action = 'tray.open' AND details ? 'note';
UPDATE audit_log SET personal = jsonb_build_object('reason', details -> 'reason'), details = details - 'reason'
  WHERE action = 'tray.out_of_service' AND details ? 'reason';
UPDATE audit_log SET personal = jsonb_build_object('name', details -> 'name'), details = details - 'name'
  WHERE action = 'staff.created' AND details ? 'name';

-- Existing rows are chained here, per locker in the order they were written (id): they are
-- covered like any later row, and the first row written after this migration follows the last.
DO $$
DECLARE
  r          record;
  cur_locker text := NULL;
  n          bigint := 0;
  prev       text;
BEGIN
  FOR r IN SELECT id, locker_id FROM audit_log ORDER BY locker_id, id LOOP
    IF cur_locker IS DISTINCT FROM r.locker_id THEN
      cur_locker := r.locker_id;
      n := 0;
      prev := repeat('0', 64);
    END IF;
    n := n + 1;
    UPDATE audit_log
       SET seq = n,
           prev_hash = prev,
           hash = encode(sha256(convert_to(jsonb_build_object(
             'prev', prev,
             'locker_id', locker_id,
             'seq', n,
             'at', to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
             'actor', regexp_replace(actor, '^(admin|staff):([0-9]+):.*$', '\1:\2'),
             'action', action,
             'subject', subject,
             'details', details)::text, 'UTF8')), 'hex')
     WHERE id = r.id
     RETURNING hash INTO prev;
  END LOOP;
END $$;

ALTER TABLE audit_log
  ALTER COLUMN seq SET NOT NULL,
  ALTER COLUMN prev_hash SET NOT NULL,
  ALTER COLUMN hash SET NOT NULL;

-- One row per position: the head of a chain is the row of the highest seq.
CREATE UNIQUE INDEX audit_log_chain ON audit_log (locker_id, seq);
