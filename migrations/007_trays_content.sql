-- The tray's content (free, reserved, holding_deposit, holding_result, to_check) was stored in a
-- column named state; it takes the name the domain gives it (TrayContent), and its check
-- constraint follows. No index names the column. The data and the rule are unchanged.

ALTER TABLE trays RENAME COLUMN state TO content;
ALTER TABLE trays RENAME CONSTRAINT trays_state_check TO trays_content_check;
