-- ID-card pickup with a second factor (docs/adr/0028-id-card-pickup-second-factor.md).
--
-- dossiers.holder_id_hash: for a result of a procedure flagged `pickupProof: id_number`, the keyed
-- hash (IdVault.hash, HMAC-SHA256 under a key never in the database) of its holder's 12-digit ID
-- number, given by the officer who loaded it; null for every other dossier. The number itself is
-- stored nowhere. Cleared when the result is picked up, and with the phone by the retention purge.
-- identity_failures: wrong numbers given for this result, across visits (reset by the right one);
-- identity_held_at: set when they reached the limit: the kiosk no longer opens it, an officer does.
ALTER TABLE dossiers ADD COLUMN holder_id_hash text;
ALTER TABLE dossiers ADD COLUMN identity_failures integer NOT NULL DEFAULT 0 CHECK (identity_failures >= 0);
ALTER TABLE dossiers ADD COLUMN identity_held_at timestamptz;
ALTER TABLE dossiers ADD CONSTRAINT dossiers_holder_id_result CHECK (holder_id_hash IS NULL OR kind = 'result');

-- challenges.identity_failures: wrong numbers given after this pickup code was verified.
ALTER TABLE challenges ADD COLUMN identity_failures integer NOT NULL DEFAULT 0 CHECK (identity_failures >= 0);
