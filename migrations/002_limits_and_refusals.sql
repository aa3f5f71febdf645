-- Per-scope limits that admins may lower (never above the operator's), and refusals made
-- before a request was queued (limits, banned terms, moderation), shown to scope admins.
ALTER TABLE scope_settings ADD COLUMN daily_limit_per_user INTEGER;
ALTER TABLE scope_settings ADD COLUMN daily_limit_per_scope INTEGER;
ALTER TABLE scope_settings ADD COLUMN nsfw INTEGER NOT NULL DEFAULT 0;

CREATE TABLE refusals (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    platform    TEXT NOT NULL,
    scope_id    TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    code        TEXT NOT NULL,
    reason      TEXT NOT NULL,
    created_at  REAL NOT NULL
);

CREATE INDEX refusals_by_scope ON refusals (platform, scope_id, created_at DESC);
CREATE INDEX generations_by_created ON generations (created_at);
