-- Community styles: a server's or group's own styles beside the built-in ones (bot/styles.yaml).
-- `style_id` is the slug members type (unique within the scope, never a built-in id); `code`
-- is derived from the definition (`#k3f9`), usable in any scope unless `private`. Reference
-- pictures and the preview are files the bot named (JSON list of paths, a path). Forget-me
-- clears `created_by` and `created_by_name`, never the community's style.
CREATE TABLE community_styles (
    platform        TEXT NOT NULL,
    scope_id        TEXT NOT NULL,
    style_id        TEXT NOT NULL,
    name            TEXT NOT NULL,
    description     TEXT NOT NULL DEFAULT '',
    template        TEXT NOT NULL,
    negative        TEXT NOT NULL DEFAULT '',
    aspect          TEXT,
    count           INTEGER,
    provider        TEXT,
    refs            TEXT NOT NULL DEFAULT '[]',
    hidden          INTEGER NOT NULL DEFAULT 0,
    private         INTEGER NOT NULL DEFAULT 0,
    code            TEXT NOT NULL,
    digest          TEXT NOT NULL,
    preview_path    TEXT,
    created_by      TEXT,
    created_by_name TEXT,
    created_at      REAL NOT NULL,
    updated_at      REAL NOT NULL,
    PRIMARY KEY (platform, scope_id, style_id)
);
CREATE INDEX community_styles_code ON community_styles (code, created_at);
CREATE INDEX community_styles_creator ON community_styles (platform, created_by);
