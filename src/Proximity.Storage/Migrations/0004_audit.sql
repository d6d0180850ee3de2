-- Append-only audit log. Each row's hash is SHA-256 over the previous row's hash and this row's
-- content (see AuditLog.ComputeHash), so an edit, insert or delete breaks the chain.
CREATE TABLE audit_log (
    seq        bigint PRIMARY KEY CHECK (seq >= 1),
    at         timestamptz NOT NULL,
    actor      text NOT NULL,
    action     text NOT NULL,
    subject    text NOT NULL,
    reason     text,
    -- JSON kept as the exact text that was hashed (jsonb would re-format it)
    detail     text CHECK (detail IS NULL OR detail::jsonb IS NOT NULL),
    prev_hash  bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash       bytea NOT NULL CHECK (length(hash) = 32)
);
CREATE INDEX audit_log_subject ON audit_log (subject, at);

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
