-- Door truth: a tray whose door was not watched for the whole time its lock was released is
-- neither freed nor taken as filled: it is "to check" until an officer looks
-- (docs/adr/0012-uncertain-tray-outcomes.md).

ALTER TABLE trays DROP CONSTRAINT trays_state_check;
ALTER TABLE trays ADD CONSTRAINT trays_state_check
  CHECK (state IN ('free', 'reserved', 'holding_deposit', 'holding_result', 'to_check'));

ALTER TABLE dossiers DROP CONSTRAINT dossiers_status_check;
ALTER TABLE dossiers ADD CONSTRAINT dossiers_status_check CHECK (status IN (
  'verified', 'tray_open', 'deposited', 'collected', 'cancelled', 'missing',
  'loading', 'loaded', 'notified', 'picked_up', 'expired', 'returned_to_counter', 'to_check'));
-- check_since: when the tray went to check; check_from: the status before (a result released for
-- pickup goes back to it when the officer finds it); check_reason: why the door was not watched.
ALTER TABLE dossiers
  ADD COLUMN check_since  timestamptz,
  ADD COLUMN check_from   text,
  ADD COLUMN check_reason text;

-- A dossier to check still holds its tray.
DROP INDEX dossiers_one_per_tray;
CREATE UNIQUE INDEX dossiers_one_per_tray ON dossiers (locker_id, tray)
  WHERE tray IS NOT NULL AND status IN ('tray_open', 'deposited', 'loading', 'loaded', 'notified', 'expired', 'to_check');

-- Rounds carry the trays to check; the officer answers found or empty.
ALTER TABLE round_items DROP CONSTRAINT round_items_kind_check;
ALTER TABLE round_items ADD CONSTRAINT round_items_kind_check CHECK (kind IN ('collect', 'take_back', 'check'));
ALTER TABLE round_items DROP CONSTRAINT round_items_status_check;
ALTER TABLE round_items ADD CONSTRAINT round_items_status_check
  CHECK (status IN ('pending', 'opened', 'collected', 'returned', 'missing', 'found', 'empty'));
