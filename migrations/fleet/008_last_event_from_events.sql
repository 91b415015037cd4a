-- A locker's last event is read from its events (src/fleet/store.ts `lockers`, by the index
-- fleet_events_by_locker), no longer written on its row by every batch of events (ADR 0031): the
-- instances share the events, and each batch's update of those rows made the other instances'
-- batches wait for its commit. Instances of the version before this one write these columns:
-- stop them all before starting this version.
ALTER TABLE fleet_lockers
  DROP COLUMN last_event_type,
  DROP COLUMN last_event_at;
