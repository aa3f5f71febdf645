-- One request's images: each stored on its own (the grid is only a rendering for the chat),
-- how the request came about (a follow-up names its parent's image), its input picture and
-- strength, the crop made for an aspect the provider could not make, a describe's
-- suggestions, and a scope's cap on images per request.
ALTER TABLE generations ADD COLUMN kind TEXT NOT NULL DEFAULT 'imagine';
ALTER TABLE generations ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
ALTER TABLE generations ADD COLUMN parent_index INTEGER;
ALTER TABLE generations ADD COLUMN input_path TEXT;
ALTER TABLE generations ADD COLUMN strength REAL;
ALTER TABLE generations ADD COLUMN crop_note TEXT;
ALTER TABLE generations ADD COLUMN suggestions TEXT NOT NULL DEFAULT '[]';

ALTER TABLE scope_settings ADD COLUMN max_count INTEGER;

CREATE TABLE generation_images (
    generation_id   TEXT NOT NULL REFERENCES generations(id) ON DELETE CASCADE,
    idx             INTEGER NOT NULL CHECK (idx BETWEEN 1 AND 4),
    path            TEXT NOT NULL,
    width           INTEGER NOT NULL,
    height          INTEGER NOT NULL,
    seed            INTEGER,
    PRIMARY KEY (generation_id, idx)
);
