-- Personal data that expires (docs/retention.md): a closed dossier keeps its row, its phone (hash
-- and encrypted number) is cleared some time after it closed; a text keeps its row, its recipient
-- is cleared. Challenges, code sends, phone guards and published events are deleted, not cleared.

ALTER TABLE dossiers ALTER COLUMN phone_hash DROP NOT NULL;
ALTER TABLE dossiers ALTER COLUMN phone_enc DROP NOT NULL;
-- The hash and the encrypted number go together, and only from a closed dossier (a status with no
-- move out of it: CLOSED_STATUSES in src/domain/dossier.ts); an open dossier always has its phone.
ALTER TABLE dossiers ADD CONSTRAINT dossiers_phone_pair CHECK ((phone_hash IS NULL) = (phone_enc IS NULL));
ALTER TABLE dossiers ADD CONSTRAINT dossiers_phone_kept_while_open
  CHECK (phone_hash IS NOT NULL OR status IN ('collected', 'cancelled', 'missing', 'picked_up', 'returned_to_counter'));

ALTER TABLE sms_messages ALTER COLUMN phone_hash DROP NOT NULL;

-- The admin screen and the daily timer read the last purge from the audit log.
CREATE INDEX audit_log_retention_purged ON audit_log (locker_id, id DESC) WHERE action = 'retention.purged';
