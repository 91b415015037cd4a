-- Room on each page for its rows' next versions (ADR 0032). Every state message rewrites its
-- locker's row or its tray's; a page filled to the brim has no room for the new version, which
-- then goes to another page with a new index entry (not a HOT update), and the table grows by a
-- burst's updates until a vacuum: 500 lockers' rows (well under 1 MiB packed) took 16 MiB in a
-- minute of the fleet bench, and every read by key walked the dead versions' index entries. With
-- room left on each page (four fifths of a lockers' page, half of a trays' page: a tray's row is
-- short), the new version stays on its page and the old one is pruned there.
-- Pages written from now on keep the room; existing pages get it as their rows move.
ALTER TABLE fleet_lockers SET (fillfactor = 20);
ALTER TABLE fleet_trays SET (fillfactor = 50);
