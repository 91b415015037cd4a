-- Deposits of dossiers filed on the city's online public-service system (ADR 0029). The citizen
-- types the number the online system gave; it rides with the challenge until the code check, and
-- the dossier is then recorded under it (dossiers.code), unchanged.
ALTER TABLE challenges ADD COLUMN online_number text;

-- One live deposit per code: while a deposit is on its way into the machine or waits in it for the
-- round (verified, tray_open, deposited, to_check). Once collected (or found missing) the same
-- online number may be deposited again: the department may ask for more papers under the number
-- the online system gave. Our own codes are new for every deposit (DossierStore.insertNewCode), so
-- nothing changes for them. Results are as in 006.
DROP INDEX dossiers_code_kind_live;
CREATE UNIQUE INDEX dossiers_code_kind_live ON dossiers (code, kind)
  WHERE (kind = 'deposit' AND status IN ('verified', 'tray_open', 'deposited', 'to_check'))
     OR (kind = 'result' AND status IN ('loading', 'loaded', 'notified', 'expired', 'to_check'));
