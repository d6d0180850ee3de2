-- People, devices and their assignments, bans with their full version history.
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE person (
    id              text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 128),
    kind            text NOT NULL CHECK (kind IN ('offender', 'victim')),
    display_name    text NOT NULL,
    -- offender: suspect, convicted, parole, ...; victim: protected
    legal_status    text NOT NULL,
    case_reference  text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE device (
    id                 text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 128),
    kind               text NOT NULL CHECK (kind IN ('ankle_monitor', 'victim_device')),
    -- PBKDF2-SHA256 of the device secret; the secret itself is never stored
    secret_hash        bytea NOT NULL,
    secret_salt        bytea NOT NULL,
    secret_iterations  integer NOT NULL CHECK (secret_iterations > 0),
    registered_at      timestamptz NOT NULL DEFAULT now(),
    retired_at         timestamptz
);

CREATE TABLE device_assignment (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id       text NOT NULL REFERENCES device (id),
    person_id       text NOT NULL REFERENCES person (id),
    assigned_from   timestamptz NOT NULL,
    assigned_until  timestamptz,
    assigned_by     text NOT NULL,
    CHECK (assigned_until IS NULL OR assigned_until > assigned_from)
);
-- A device carries at most one person at a time.
CREATE UNIQUE INDEX device_assignment_open ON device_assignment (device_id) WHERE assigned_until IS NULL;
CREATE INDEX device_assignment_person ON device_assignment (person_id);

CREATE TABLE ban (
    id               text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 128),
    offender_id      text NOT NULL REFERENCES person (id),
    kind             text NOT NULL CHECK (kind IN ('contact', 'exclusion_zone', 'inclusion_zone')),
    current_version  integer NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ban_offender ON ban (offender_id);

-- Every change of a ban is a new row; nothing is updated in place, so what was in force at any
-- moment can be reconstructed for a court.
CREATE TABLE ban_version (
    ban_id              text NOT NULL REFERENCES ban (id),
    version             integer NOT NULL CHECK (version >= 1),
    legal_basis         text NOT NULL,
    issuing_authority   text NOT NULL,
    case_reference      text NOT NULL,
    valid_from          timestamptz NOT NULL,
    valid_until         timestamptz,
    -- weekly schedule in local time (null = always in force while valid)
    schedule            jsonb,
    monitoring_level    text NOT NULL,
    victim_id           text REFERENCES person (id),
    min_distance_m      double precision CHECK (min_distance_m > 0),
    warning_distance_m  double precision CHECK (warning_distance_m > 0),
    warning_buffer_m    double precision CHECK (warning_buffer_m >= 0),
    -- zone bans: polygon / multipolygon, or a point with radius_m (a circle)
    area                geometry(Geometry, 4326),
    radius_m            double precision CHECK (radius_m > 0),
    recorded_at         timestamptz NOT NULL DEFAULT now(),
    recorded_by         text NOT NULL,
    change_reason       text,
    PRIMARY KEY (ban_id, version),
    CHECK (valid_until IS NULL OR valid_until > valid_from),
    CHECK (area IS NULL OR ST_IsValid(area)),
    CHECK (area IS NULL OR GeometryType(area) IN ('POLYGON', 'MULTIPOLYGON')
           OR (GeometryType(area) = 'POINT' AND radius_m IS NOT NULL))
);
CREATE INDEX ban_version_area ON ban_version USING gist (area);
CREATE INDEX ban_version_victim ON ban_version (victim_id) WHERE victim_id IS NOT NULL;

CREATE VIEW ban_current AS
SELECT b.id, b.offender_id, b.kind, v.version, v.legal_basis, v.issuing_authority, v.case_reference,
       v.valid_from, v.valid_until, v.schedule, v.monitoring_level, v.victim_id, v.min_distance_m,
       v.warning_distance_m, v.warning_buffer_m, v.area, v.radius_m, v.recorded_at, v.recorded_by
FROM ban b
JOIN ban_version v ON v.ban_id = b.id AND v.version = b.current_version;

-- Ban versions are history: refuse edits and deletes.
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP;
END;
$$;
CREATE TRIGGER ban_version_append_only BEFORE UPDATE OR DELETE ON ban_version
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
