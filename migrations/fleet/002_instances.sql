-- The running fleet instances and their heartbeats (src/fleet/peers.ts, ADR 0023): one row per run
-- of an instance. A planned stop deletes its row, unless it was the last instance running: then the
-- row stays, stopped_at set. A crashed run's row stays and goes stale. One live instance claims
-- such a row (replay_by) and asks every locker to publish its events again since a little before
-- caught_up_at.
CREATE TABLE fleet_instances (
  run                uuid PRIMARY KEY,            -- one start of an instance
  instance           text NOT NULL,               -- its name (FLEET_INSTANCE)
  started_at         timestamptz NOT NULL DEFAULT now(),
  seen_at            timestamptz NOT NULL DEFAULT now(),  -- its last heartbeat
  caught_up_at       timestamptz NOT NULL DEFAULT now(),  -- by then it had stored every message the broker had given it
  stopped_at         timestamptz,                 -- a planned stop of the last instance: nobody reads the events from then
  replay_by          uuid,                        -- the run that claimed the replay after this one died
  replay_claimed_at  timestamptz,                 -- a claim not done within the staleness may be taken over
  replay_done_at     timestamptz                  -- every known locker was asked
);
CREATE INDEX fleet_instances_unclaimed ON fleet_instances (seen_at) WHERE replay_done_at IS NULL;
