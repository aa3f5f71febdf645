"""Chat platform adapters: everything that knows Discord or Telegram lives below here."""
