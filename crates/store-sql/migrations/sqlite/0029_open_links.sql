-- The sweep that cancels payment links past their expiry (docs/contract/payments.md §7) reads
-- only the links still open.
CREATE INDEX payments_open_links ON payments (expires_at_ms)
    WHERE kind = 'link' AND status IN ('pending', 'failed', 'requires_action');
