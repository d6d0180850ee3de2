-- Orleans cluster membership and grain state (the project's own tables, not Orleans' scripts).
CREATE TABLE orleans_membership_version (
    cluster_id  text PRIMARY KEY,
    version     integer NOT NULL,
    etag        text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orleans_membership (
    cluster_id      text NOT NULL REFERENCES orleans_membership_version (cluster_id) ON DELETE CASCADE,
    silo_address    text NOT NULL,
    host_name       text NOT NULL,
    silo_name       text NOT NULL,
    status          integer NOT NULL,
    proxy_port      integer NOT NULL,
    suspect_times   jsonb,
    start_time      timestamptz NOT NULL,
    iamalive_time   timestamptz NOT NULL,
    role_name       text,
    update_zone     integer NOT NULL DEFAULT 0,
    fault_zone      integer NOT NULL DEFAULT 0,
    etag            bigint NOT NULL,
    PRIMARY KEY (cluster_id, silo_address)
);

CREATE TABLE orleans_grain_state (
    service_id    text NOT NULL,
    storage_name  text NOT NULL,
    state_name    text NOT NULL,
    grain_id      text NOT NULL,
    -- null after ClearStateAsync: the row stays as a tombstone so etags never repeat
    payload       bytea,
    etag          bigint NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (service_id, storage_name, state_name, grain_id)
);
