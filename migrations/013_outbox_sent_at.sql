-- A replay (docs/adr/0023-replay-from-lockers-after-a-fleet-crash.md) publishes again the events
-- sent since a moment: it finds the first of them here, then walks the outbox in seq order from
-- there, not every sent row from the first one.
CREATE INDEX outbox_sent_at ON outbox (locker_id, sent_at) WHERE sent_at IS NOT NULL;
