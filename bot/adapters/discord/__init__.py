"""Discord adapter: slash commands, buttons and delivery through discord.py."""
