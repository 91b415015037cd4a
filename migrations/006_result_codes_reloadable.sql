-- A result's code is unique among the results still in the locker's hands, not for ever: a result
-- picked up, or returned to the counter after its window, may be loaded again under the same code
-- (the citizen asks at the counter to have it put back). Deposits keep one live dossier per code.
-- The result statuses here are those of DossierStore.liveResult (src/store/dossiers.ts).

DROP INDEX dossiers_code_kind_live;
CREATE UNIQUE INDEX dossiers_code_kind_live ON dossiers (code, kind)
  WHERE (kind = 'deposit' AND status <> 'cancelled')
     OR (kind = 'result' AND status IN ('loading', 'loaded', 'notified', 'expired', 'to_check'));
