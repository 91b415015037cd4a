-- Staff accounts managed by admins, and touchscreen sign-in with a PIN and an authenticator code.
-- pin_hash: scrypt with a per-account salt (the PIN is never stored).
-- totp_secret_enc: the authenticator secret, AES-256-GCM under a key kept outside the database.
-- totp_last_step: the last accepted TOTP time step; a code of that step or an earlier one is refused.
-- pin_failures / locked_until: wrong sign-ins since the last right one; the lock they lead to.
-- created_by: the actor who created the account (null for accounts seeded from the environment).
ALTER TABLE accounts
  ADD COLUMN pin_hash        text,
  ADD COLUMN totp_secret_enc text,
  ADD COLUMN totp_last_step  bigint,
  ADD COLUMN pin_failures    integer NOT NULL DEFAULT 0,
  ADD COLUMN locked_until    timestamptz,
  ADD COLUMN created_by      text;

-- A touchscreen account has both factors or neither.
ALTER TABLE accounts ADD CONSTRAINT accounts_touchscreen_factors
  CHECK ((pin_hash IS NULL) = (totp_secret_enc IS NULL));

-- Sign-in is by name: no two live touchscreen accounts share one.
CREATE UNIQUE INDEX accounts_touchscreen_name ON accounts (lower(name))
  WHERE disabled_at IS NULL AND pin_hash IS NOT NULL;

-- Touchscreen sessions. The token is stored only as its SHA-256 digest.
CREATE TABLE sessions (
  token_hash  text PRIMARY KEY,
  account_id  bigint NOT NULL REFERENCES accounts(id),
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL,
  revoked_at  timestamptz
);
CREATE INDEX sessions_account_live ON sessions (account_id) WHERE revoked_at IS NULL;
CREATE INDEX sessions_expires ON sessions (expires_at);
