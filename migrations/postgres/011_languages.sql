-- PostgreSQL twin of ../013_languages.sql: a person's language, a community's default and
-- whether members' languages win, and the locale each request is answered in.
ALTER TABLE user_settings ADD COLUMN language TEXT;
ALTER TABLE scope_settings ADD COLUMN language TEXT;
ALTER TABLE scope_settings ADD COLUMN members_language_wins INTEGER NOT NULL DEFAULT 1;
ALTER TABLE generations ADD COLUMN locale TEXT NOT NULL DEFAULT 'en';
