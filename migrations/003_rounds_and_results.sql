-- Staff: collection rounds and their items; results carry the code the officer scans, which may be
-- a deposit's code (a result for a dossier received here) or the online system's dossier number.

ALTER TABLE dossiers DROP CONSTRAINT dossiers_code_key;
CREATE UNIQUE INDEX dossiers_code_kind_live ON dossiers (code, kind) WHERE status <> 'cancelled';
CREATE INDEX dossiers_code ON dossiers (code);
CREATE INDEX dossiers_deadline ON dossiers (locker_id, pickup_deadline) WHERE kind = 'result';

CREATE TABLE rounds (
  id            uuid PRIMARY KEY,
  locker_id     text NOT NULL,
  scheduled_at  timestamptz NOT NULL,
  status        text NOT NULL CHECK (status IN ('upcoming', 'due', 'running', 'completed', 'skipped')),
  drawn_at      timestamptz,
  started_at    timestamptz,
  started_by    text,
  completed_at  timestamptz,
  completed_by  text,
  counts        jsonb,
  UNIQUE (locker_id, scheduled_at)
);
CREATE INDEX rounds_open ON rounds (locker_id, scheduled_at) WHERE status IN ('upcoming', 'due', 'running');

CREATE TABLE round_items (
  round_id      uuid NOT NULL REFERENCES rounds(id),
  dossier_id    uuid NOT NULL REFERENCES dossiers(id),
  tray          integer NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('collect', 'take_back')),
  status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'opened', 'collected', 'returned', 'missing')),
  opened_at     timestamptz,
  confirmed_at  timestamptz,
  confirmed_by  text,
  PRIMARY KEY (round_id, dossier_id)
);
CREATE INDEX round_items_tray ON round_items (round_id, tray);
