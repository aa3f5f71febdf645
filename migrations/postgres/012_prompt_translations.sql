-- PostgreSQL twin of ../012_prompt_translations.sql: what the providers that read English
-- best get, beside the words as written, and the shared cache of translations.
ALTER TABLE generations ADD COLUMN prompt_english TEXT;
ALTER TABLE generations ADD COLUMN negative_english TEXT;
CREATE TABLE prompt_translations (
    key        TEXT NOT NULL,
    model      TEXT NOT NULL,
    english    TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (key, model)
);
CREATE INDEX prompt_translations_created ON prompt_translations (created_at);
