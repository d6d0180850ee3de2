-- When a device last changed (registered, re-keyed, assigned, unassigned, retired): every node polls for the
-- devices changed since it last looked, so a retired or re-keyed device loses access to every node's embedded
-- broker within seconds.
ALTER TABLE device ADD COLUMN changed_at timestamptz NOT NULL DEFAULT clock_timestamp();
CREATE INDEX device_changed_at ON device (changed_at);
