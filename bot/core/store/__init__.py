"""History and settings: SQLite under DATA_DIR by default, PostgreSQL when DATABASE_URL says so.

`Store` is the interface every caller types against; `open_store` picks the backend.
"""

from bot.core.store.base import Store, migrations_dir
from bot.core.store.factory import BadDatabaseUrl, open_configured_store, open_store, open_url
from bot.core.store.rows import NewGeneration, Refusal
from bot.core.store.settings import ScopeRow

__all__ = [
    "BadDatabaseUrl",
    "NewGeneration",
    "Refusal",
    "ScopeRow",
    "Store",
    "migrations_dir",
    "open_configured_store",
    "open_store",
    "open_url",
]
