-- A locker's `occupancy` kept compact (ADR 0030): its counts as they came, and its trays as one
-- short text, `<number><state><door>` per tray joined by commas (states f free, r reserved,
-- d holding_deposit, h holding_result, c to_check, o out_of_service; doors o open, c closed,
-- u unknown; src/fleet/store.ts encodes and decodes). About 450 bytes for 90 trays: the row stays
-- within its page, not compressed and not moved out of line at every change as the ~4.8 kB JSON
-- payload was (most of the cost of storing a round's burst). Instances of the version before
-- this one write the old column: stop them all before starting this version.
ALTER TABLE fleet_lockers
  ADD COLUMN occupancy_counts jsonb,
  ADD COLUMN occupancy_trays  text;

UPDATE fleet_lockers SET
  occupancy_counts = occupancy -> 'counts',
  occupancy_trays = coalesce((
    SELECT string_agg(
             (t ->> 'number') ||
             CASE t ->> 'state' WHEN 'free' THEN 'f' WHEN 'reserved' THEN 'r' WHEN 'holding_deposit' THEN 'd'
                                WHEN 'holding_result' THEN 'h' WHEN 'to_check' THEN 'c' ELSE 'o' END ||
             CASE t ->> 'door' WHEN 'open' THEN 'o' WHEN 'closed' THEN 'c' ELSE 'u' END,
             ',' ORDER BY ord)
      FROM jsonb_array_elements(occupancy -> 'trays') WITH ORDINALITY AS e(t, ord)), '')
 WHERE occupancy IS NOT NULL;

ALTER TABLE fleet_lockers DROP COLUMN occupancy;
