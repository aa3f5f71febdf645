-- The web gallery: pictures admins hid, scopes whose gallery is switched off, prompt search.
ALTER TABLE generations ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
ALTER TABLE scope_settings ADD COLUMN gallery INTEGER NOT NULL DEFAULT 1;

-- A scope's gallery, newest first (keyset pagination on created_at, id).
CREATE INDEX generations_gallery ON generations (platform, scope_id, created_at DESC, id DESC)
    WHERE status = 'delivered' AND image_path IS NOT NULL;

-- Prompt search. The FTS rowid comes from generation_search, a table with an INTEGER PRIMARY
-- KEY, not from the generations table's implicit rowid, which VACUUM may renumber. Rows get
-- their search rowid in insertion order, so walking it downwards is newest first.
CREATE TABLE generation_search (
    rowid           INTEGER PRIMARY KEY,
    generation_id   TEXT NOT NULL UNIQUE
);
CREATE VIRTUAL TABLE generations_fts USING fts5(prompt, tokenize = 'unicode61 remove_diacritics 2');

CREATE TRIGGER generations_search_insert AFTER INSERT ON generations BEGIN
    INSERT INTO generation_search (generation_id) VALUES (new.id);
    INSERT INTO generations_fts (rowid, prompt)
        SELECT rowid, new.prompt FROM generation_search WHERE generation_id = new.id;
END;

CREATE TRIGGER generations_search_delete AFTER DELETE ON generations BEGIN
    DELETE FROM generations_fts
        WHERE rowid = (SELECT rowid FROM generation_search WHERE generation_id = old.id);
    DELETE FROM generation_search WHERE generation_id = old.id;
END;

CREATE TRIGGER generations_search_update AFTER UPDATE OF prompt ON generations BEGIN
    UPDATE generations_fts SET prompt = new.prompt
        WHERE rowid = (SELECT rowid FROM generation_search WHERE generation_id = new.id);
END;

-- Rows made before this migration, oldest first so their search order matches their age.
INSERT INTO generation_search (generation_id) SELECT id FROM generations ORDER BY created_at, id;
INSERT INTO generations_fts (rowid, prompt)
    SELECT s.rowid, g.prompt FROM generation_search s JOIN generations g ON g.id = s.generation_id;
