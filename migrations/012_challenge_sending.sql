-- A code is 'sending' until the SMS provider took it (docs/adr/0014-code-policy-without-lock-outs.md):
-- it cannot be answered before (nobody can hold it yet), so no guess is made at a code whose send
-- may turn out refused and uncounted.
ALTER TABLE challenges DROP CONSTRAINT challenges_status_check;
ALTER TABLE challenges ADD CONSTRAINT challenges_status_check
  CHECK (status IN ('sending', 'pending', 'verified', 'failed', 'expired'));
