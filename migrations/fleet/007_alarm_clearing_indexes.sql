-- What clears an alarm, found by index (src/fleet/store.ts `openAlarms`): a door opened unasked
-- or held open is cleared by that tray's door closing after it, a board fault by that board
-- answering again. Without these the dashboard's every read scanned each alarm's locker's later
-- events: 120 ms for 25 lockers with 70 events each, several times a second while lockers are busy.
CREATE INDEX fleet_events_door_closed ON fleet_events (locker_id, (data ->> 'tray'), at) WHERE type = 'tray.door_closed';
CREATE INDEX fleet_events_board_recovered ON fleet_events (locker_id, (data ->> 'board'), at) WHERE type = 'board.recovered';
