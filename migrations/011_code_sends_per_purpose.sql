-- The code policy without lock-outs (docs/adr/0014-code-policy-without-lock-outs.md): send limits
-- are counted per purpose (deposit, pickup), and only for codes that were sent, so a send record
-- names its challenge (a code that certainly did not leave is removed). Sends recorded before this
-- have no purpose and count for both. Wrong entries no longer lock a number: phone_guards keeps
-- its count (one try per code past a threshold), locked_until is no longer set.

ALTER TABLE otp_sends ADD COLUMN purpose text CHECK (purpose IN ('deposit', 'pickup'));
ALTER TABLE otp_sends ADD COLUMN challenge_id uuid;
UPDATE phone_guards SET locked_until = NULL;
