-- A locker that (re)connects to the broker is asked for a replay by one fleet instance
-- (src/fleet/peers.ts, ADR 0023): a broker that restarted has lost the lockers' sessions, and a
-- request published to a locker not back on it yet went nowhere.
--
-- replay_asked_at: when an instance last claimed a connect of this locker. An instance that hears
-- of the same connect a moment later finds it claimed and asks nothing.
ALTER TABLE fleet_lockers ADD COLUMN replay_asked_at timestamptz;

-- Every request published to every locker (a dead run, a lost link, the fleet stopped), written
-- before the first of them goes out: a locker that connects after one, having maybe missed it, is
-- asked again from its `since`. Kept a day: a locker replays 24 hours at most.
CREATE TABLE fleet_replays (
  request_id  uuid PRIMARY KEY,
  asked_at    timestamptz NOT NULL DEFAULT now(),
  since       timestamptz NOT NULL,
  cause       text NOT NULL               -- instance gone, fleet stopped, link lost
);
CREATE INDEX fleet_replays_by_time ON fleet_replays (asked_at);
