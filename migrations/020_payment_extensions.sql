-- A citizen at the QR may ask for more time ("Cần thêm thời gian?", WCAG 2.2.1): each extension
-- moves pay_by on by payments.extendSec, up to a fixed number of times (src/services/payments.ts).
ALTER TABLE payments ADD COLUMN extensions integer NOT NULL DEFAULT 0 CHECK (extensions >= 0);
