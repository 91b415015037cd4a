-- A deposit made with a scanned citizen ID card (issue 12; docs/id-card.md): the depositor's ID
-- number and name, sealed together with the ID key (src/domain/id-vault.ts, AES-256-GCM); never the
-- address or the birth date. Null for a deposit made without a card, and blanked with the phone
-- once the dossier has been closed longer than retention.closedDossierDays (src/store/retention.ts).
ALTER TABLE dossiers ADD COLUMN holder_enc text;

-- The scan a deposit's code request named (src/services/id-cards.ts keeps the scan itself, in
-- memory only): the code check reads the holder by it. An id, no personal data.
ALTER TABLE challenges ADD COLUMN id_scan_id uuid;
