-- A citizen at the QR may ask for more time ("Cần thêm thời gian?", WCAG 2.2.1): each extension
-- moves pay_by on by PAYMENT_EXTENSION_MS (2 minutes), up to PAYMENT_EXTENSIONS (10) times
-- (src/services/payments.ts).
ALTER TABLE payments ADD COLUMN extensions integer NOT NULL DEFAULT 0 CHECK (extensions >= 0);
