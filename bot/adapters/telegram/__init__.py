"""The Telegram adapter (python-telegram-bot): commands, keyboards, delivery."""
