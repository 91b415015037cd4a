-- A request to every locker that some lockers did not acknowledge (the broker slow, a PUBACK timed
-- out) goes again to those lockers only, under the same request id and `since`, with a back-off
-- (src/fleet/peers.ts, ADR 0023). A dead run's request is kept on its row, so that whichever
-- instance claims the run next goes on with it rather than asking every locker again.
ALTER TABLE fleet_instances
  ADD COLUMN replay_request_id uuid,                  -- its request (fleet_replays), once written
  ADD COLUMN replay_pending    text[],                -- lockers yet to acknowledge it; NULL: every locker known
  ADD COLUMN replay_attempts   int NOT NULL DEFAULT 0, -- rounds that left some unacknowledged
  ADD COLUMN replay_retry_at   timestamptz;           -- not claimed again before this
