-- Alerts (written before they are published: the unpublished ones are the outbox), their
-- lifecycle and the fixes they used as evidence.
CREATE TABLE alert (
    id               text PRIMARY KEY,
    -- the same episode reported twice (retry, redelivery, failover) is one alert
    idempotency_key  text NOT NULL UNIQUE,
    type             text NOT NULL,
    severity         text NOT NULL,
    offender_id      text NOT NULL,
    victim_id        text,
    ban_id           text,
    ban_version      integer,
    device_id        text,
    raised_at        timestamptz NOT NULL,
    decided_at       timestamptz NOT NULL,
    late             boolean NOT NULL DEFAULT false,
    state            text NOT NULL DEFAULT 'open'
                     CHECK (state IN ('open', 'acknowledged', 'dispatched', 'resolved')),
    cleared_at       timestamptz,
    -- the alert as published (AlertJson) and its evidence, for operators and courts
    document         jsonb NOT NULL,
    evidence         jsonb NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    published_at     timestamptz
);
CREATE INDEX alert_offender ON alert (offender_id, raised_at);
CREATE INDEX alert_unpublished ON alert (recorded_at) WHERE published_at IS NULL;
CREATE INDEX alert_not_resolved ON alert (state) WHERE state <> 'resolved';

CREATE TABLE alert_event (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id  text NOT NULL REFERENCES alert (id),
    at        timestamptz NOT NULL DEFAULT now(),
    kind      text NOT NULL,
    actor     text NOT NULL,
    detail    jsonb
);
CREATE INDEX alert_event_alert ON alert_event (alert_id, id);

CREATE TABLE alert_fix (
    alert_id     text NOT NULL REFERENCES alert (id),
    device_id    text NOT NULL,
    seq          bigint NOT NULL,
    device_time  timestamptz NOT NULL,
    role         text NOT NULL,
    PRIMARY KEY (alert_id, device_id, seq, device_time)
);
CREATE INDEX alert_fix_fix ON alert_fix (device_id, seq, device_time);

CREATE TRIGGER alert_event_append_only BEFORE UPDATE OR DELETE ON alert_event
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
