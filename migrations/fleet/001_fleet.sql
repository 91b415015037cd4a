-- The fleet service's own database (docs/fleet.md): what every locker last published, and the
-- events they sent, each once (by its id).
CREATE TABLE fleet_lockers (
  locker_id        text PRIMARY KEY,
  online           boolean,
  availability_at  timestamptz,          -- when the fleet received the last availability
  occupancy        jsonb,                -- the locker's last `occupancy` payload
  occupancy_at     timestamptz,          -- its `at`: an older payload never replaces a newer one
  round_next       jsonb,
  round_next_at    timestamptz,
  last_event_type  text,
  last_event_at    timestamptz,
  first_seen_at    timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE fleet_trays (
  locker_id  text NOT NULL REFERENCES fleet_lockers (locker_id),
  tray       integer NOT NULL,
  cabinet    text,                       -- known from `trays/<n>`; `occupancy` does not carry it
  size       text,
  state      text NOT NULL,
  door       text NOT NULL,
  at         timestamptz NOT NULL,
  PRIMARY KEY (locker_id, tray)
);

CREATE TABLE fleet_events (
  id           uuid PRIMARY KEY,
  locker_id    text NOT NULL REFERENCES fleet_lockers (locker_id),
  type         text NOT NULL,
  at           timestamptz NOT NULL,
  data         jsonb NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fleet_events_by_locker ON fleet_events (locker_id, at DESC);
