-- Where each locker stands (docs/fleet.md): set by the district's admins through the API, before or
-- after the locker first publishes; the dashboard's district and ward filters read it. Not a
-- foreign key to fleet_lockers: a locker may be registered before its cabinet is switched on.
CREATE TABLE fleet_sites (
  locker_id   text PRIMARY KEY,
  name        text NOT NULL,
  district    text NOT NULL,
  ward        text NOT NULL,
  address     text,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fleet_sites_by_place ON fleet_sites (district, ward);

-- The figures read events by type and time; a pickup is matched to its result by dossier code.
CREATE INDEX fleet_events_by_type ON fleet_events (type, at);
CREATE INDEX fleet_events_pickups ON fleet_events (locker_id, (data ->> 'dossierCode')) WHERE type = 'pickup.completed';
