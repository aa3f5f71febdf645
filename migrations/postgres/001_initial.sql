-- PostgreSQL twin of ../001_initial.sql: the same tables and columns, PostgreSQL's types.
-- Timestamps stay Unix seconds (DOUBLE PRECISION) and JSON stays text, so both stores
-- read and write exactly the same values.
CREATE TABLE generations (
    id                  TEXT PRIMARY KEY,
    platform            TEXT NOT NULL,
    scope_id            TEXT NOT NULL,
    chat_id             TEXT NOT NULL,
    thread_id           TEXT,
    reply_to_message_id TEXT,
    user_id             TEXT NOT NULL,
    user_name           TEXT NOT NULL,
    prompt              TEXT NOT NULL,
    negative_prompt     TEXT,
    style               TEXT NOT NULL,
    aspect              TEXT NOT NULL,
    seed                BIGINT NOT NULL,
    parent_id           TEXT REFERENCES generations(id) ON DELETE SET NULL,
    provider            TEXT,
    model               TEXT,
    status              TEXT NOT NULL
        CHECK (status IN ('queued', 'running', 'done', 'failed', 'delivered')),
    failure_code        TEXT,
    failure_reason      TEXT,
    revised_prompt      TEXT,
    image_path          TEXT,
    image_width         INTEGER,
    image_height        INTEGER,
    handle              TEXT NOT NULL DEFAULT '{}',
    delivery_attempts   INTEGER NOT NULL DEFAULT 0,
    delivery_error      TEXT,
    provider_calls      INTEGER NOT NULL DEFAULT 0,
    created_at          DOUBLE PRECISION NOT NULL,
    started_at          DOUBLE PRECISION,
    finished_at         DOUBLE PRECISION,
    delivered_at        DOUBLE PRECISION
);

CREATE INDEX generations_by_user ON generations (platform, user_id, created_at DESC);
CREATE INDEX generations_by_status ON generations (status) WHERE status IN ('queued', 'running', 'done');

CREATE TABLE scope_settings (
    platform        TEXT NOT NULL,
    scope_id        TEXT NOT NULL,
    default_style   TEXT,
    allowed_styles  TEXT NOT NULL DEFAULT '[]',
    updated_at      DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (platform, scope_id)
);

CREATE TABLE user_settings (
    platform        TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    default_style   TEXT,
    updated_at      DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (platform, user_id)
);

CREATE TABLE state (
    key     TEXT PRIMARY KEY,
    value   TEXT NOT NULL
);
