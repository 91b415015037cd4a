-- Demo accounts: the simulator's demo route (POST /api/sim/demo-token) makes staff and admin
-- accounts for anyone who asks, without signing in. They are marked, and their tokens are refused
-- whenever the hardware driver is not the simulator: a data directory used for a demo and then
-- started on the real cabinet keeps no account that nobody authorised (docs/staff-accounts.md).

ALTER TABLE accounts ADD COLUMN demo boolean NOT NULL DEFAULT false;

-- Demo accounts made before this migration carry the names only that route gives: an admin cannot
-- give a name with parentheses, and the environment seeds name their variable.
UPDATE accounts SET demo = true
  WHERE name IN ('demo admin (simulator)', 'demo staff (simulator)') AND created_by IS NULL;
