-- What the API's registry records carry beyond the first schema: optimistic versions and particulars of people,
-- when a device's secret was last set, whether a ban version ends the ban, and the area as drafted (GeoJSON, kept
-- verbatim in json, next to the PostGIS geometry that queries use).
ALTER TABLE person
    ADD COLUMN version       integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    ADD COLUMN case_officer  text,
    ADD COLUMN home          jsonb,
    ADD COLUMN work          jsonb;

ALTER TABLE device ADD COLUMN secret_set_at timestamptz NOT NULL DEFAULT now();

ALTER TABLE ban_version
    ADD COLUMN ended         boolean NOT NULL DEFAULT false,
    ADD COLUMN area_geojson  json;

-- A warning distance of 0 means "no warning stage" (as in the API and the case file).
ALTER TABLE ban_version DROP CONSTRAINT ban_version_warning_distance_m_check,
    ADD CONSTRAINT ban_version_warning_distance_m_check CHECK (warning_distance_m >= 0);
