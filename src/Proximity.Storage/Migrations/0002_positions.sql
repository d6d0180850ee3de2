-- Position history, partitioned by day of server receive time (a day of buffered fixes uploaded
-- late still lands in today's partition, which always exists).
CREATE TABLE position_fix (
    device_id    text NOT NULL,
    seq          bigint NOT NULL,
    device_time  timestamptz NOT NULL,
    received_at  timestamptz NOT NULL,
    person_id    text,
    lat          double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon          double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
    accuracy_m   real NOT NULL CHECK (accuracy_m > 0),
    speed_mps    real,
    heading_deg  real,
    battery_pct  smallint,
    source       text NOT NULL
) PARTITION BY RANGE (received_at);
CREATE INDEX position_fix_device_time ON position_fix (device_id, device_time);
CREATE INDEX position_fix_person_time ON position_fix (person_id, device_time);

-- Fixes that an alert used as evidence outlive the retention period: the retention job copies
-- them here before it drops their partition.
CREATE TABLE position_fix_retained (LIKE position_fix INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE position_fix_retained ADD PRIMARY KEY (device_id, seq, device_time);

CREATE VIEW position_history AS
SELECT * FROM position_fix
UNION ALL
SELECT r.* FROM position_fix_retained r;

-- Creates the partition holding one day (UTC); several nodes may call it at once.
CREATE FUNCTION ensure_position_partition(day date) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    name text := 'position_fix_' || to_char(day, 'YYYYMMDD');
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('proximity.position_partition'));
    IF to_regclass(name) IS NULL THEN
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF position_fix FOR VALUES FROM (%L) TO (%L)',
            name,
            (day::timestamp AT TIME ZONE 'UTC'),
            ((day + 1)::timestamp AT TIME ZONE 'UTC'));
    END IF;
    RETURN name;
END;
$$;
