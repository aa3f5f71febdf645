-- PostgreSQL twin of ../005_images_and_follow_ups.sql: the same columns and the per-image
-- table, PostgreSQL's types (seeds up to 2^32 - 1 need BIGINT).
ALTER TABLE generations ADD COLUMN kind TEXT NOT NULL DEFAULT 'imagine';
ALTER TABLE generations ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
ALTER TABLE generations ADD COLUMN parent_index INTEGER;
ALTER TABLE generations ADD COLUMN input_path TEXT;
ALTER TABLE generations ADD COLUMN strength DOUBLE PRECISION;
ALTER TABLE generations ADD COLUMN crop_note TEXT;
ALTER TABLE generations ADD COLUMN suggestions TEXT NOT NULL DEFAULT '[]';

ALTER TABLE scope_settings ADD COLUMN max_count INTEGER;

CREATE TABLE generation_images (
    generation_id   TEXT NOT NULL REFERENCES generations(id) ON DELETE CASCADE,
    idx             INTEGER NOT NULL CHECK (idx BETWEEN 1 AND 4),
    path            TEXT NOT NULL,
    width           INTEGER NOT NULL,
    height          INTEGER NOT NULL,
    seed            BIGINT,
    PRIMARY KEY (generation_id, idx)
);
