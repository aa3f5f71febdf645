-- Languages (issue 29): a person's own choice (NULL: automatic, from their app), a
-- community's default (NULL: the platform's, Discord's guild_locale, else English) and whether
-- members' own languages win over it (yes by default), and the locale each request is
-- answered in, resolved at admission so delivery and every follow-up speak it after a restart.
ALTER TABLE user_settings ADD COLUMN language TEXT;
ALTER TABLE scope_settings ADD COLUMN language TEXT;
ALTER TABLE scope_settings ADD COLUMN members_language_wins INTEGER NOT NULL DEFAULT 1;
ALTER TABLE generations ADD COLUMN locale TEXT NOT NULL DEFAULT 'en';
