-- A deposit made with a scanned citizen ID card (issue 12; docs/id-card.md): the depositor's ID
-- number and name, sealed together with the ID key (src/domain/id-vault.ts, AES-256-GCM); never the
-- address or the birth date. Null for a deposit made without a card, and blanked with the phone
-- once the dossier has been closed longer than retention.closedDossierDays (src/store/retention.ts).
ALTER TABLE dossiers ADD COLUMN holder_enc text;

-- The holder of the scan a deposit's code request named, sealed as on the dossier: the code check
-- puts it on the dossier however long the SMS took (the scan itself lasts 5 minutes, in memory).
-- Deleted with the challenge row (retention.challengeDays).
ALTER TABLE challenges ADD COLUMN holder_enc text;
