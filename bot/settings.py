"""All configuration, read once from the environment and `.env`, then passed down."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

KNOWN_PROVIDERS = ("openai", "horde", "sdwebui", "comfyui")
DEFAULT_ENV_FILE = ".env"
# Names the settings file read instead of `.env` in the working directory; empty: read none
# (the test suite sets it empty so a developer's `.env` never reaches a test).
ENV_FILE_VARIABLE = "IMAGINEBOT_ENV_FILE"


def chosen_env_file() -> str | None:
    """The settings file to read: IMAGINEBOT_ENV_FILE when set (empty: none), else `.env`."""
    chosen = os.environ.get(ENV_FILE_VARIABLE)
    if chosen is None:
        return DEFAULT_ENV_FILE
    return chosen.strip() or None


class ConfigError(Exception):
    """Raised at start-up when a setting is missing or invalid; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=DEFAULT_ENV_FILE,
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        # A blank line in .env (`DISCORD_GUILD_ID=`) or an empty variable means "not set":
        # the default applies, for every setting.
        env_ignore_empty=True,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # `.env` gives way to IMAGINEBOT_ENV_FILE; another `_env_file` (or None) is kept.
        if (
            isinstance(dotenv_settings, DotEnvSettingsSource)
            and dotenv_settings.env_file == DEFAULT_ENV_FILE
        ):
            dotenv_settings = DotEnvSettingsSource(
                settings_cls, env_file=chosen_env_file(), env_file_encoding="utf-8"
            )
        return init_settings, env_settings, dotenv_settings, file_secret_settings

    # Chat platforms
    discord_token: SecretStr | None = None
    discord_guild_id: int | None = None
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None
    # Attachments are downloaded from Discord's CDN only; this names another one (a local
    # test server) instead.
    discord_cdn_url: str | None = None
    discord_shards: str | None = None
    # Several bot processes: the total number of shards, and the ones this process runs
    # ("0-3", "4,5", "1"); every process of the bot gets the same count.
    discord_shard_count: int | None = Field(default=None, ge=1, le=65536)
    discord_shard_ids: str | None = Field(
        default=None, pattern=r"^\s*\d+(\s*-\s*\d+)?(\s*,\s*\d+(\s*-\s*\d+)?)*\s*$"
    )
    telegram_token: SecretStr | None = None
    telegram_api_base: str | None = None
    telegram_file_base: str | None = None
    # A self-hosted Bot API server started with `--local` hands out files as absolute paths on
    # its own disk: the directory (its --dir, mounted here) the bot may read them from. Unset,
    # a picture given by a path is refused: the bot never reads a path it was not told to.
    telegram_local_files_dir: Path | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_listen: str = "0.0.0.0"  # noqa: S104 - a webhook server must listen outside
    telegram_webhook_port: int = Field(default=8443, ge=1, le=65535)
    telegram_overall_rate: float = Field(default=30.0, ge=0)
    telegram_group_rate: float = Field(default=20.0, ge=0)
    telegram_group_period_seconds: float = Field(default=60.0, gt=0)
    # After one refusal to a person in a group, further refusals to them there stay silent
    # this long, so one flooder cannot spend the group's 20 messages a minute.
    telegram_refusal_quiet_seconds: float = Field(default=60.0, ge=0)
    # Inline mode: a picture can go into an inline message only by a file_id, so it is sent
    # once to a chat first. Unset: the requester's private chat with the bot (their copy).
    telegram_inline_storage_chat: int | None = None

    # Image providers
    image_providers: Annotated[list[str], NoDecode] = Field(default_factory=list)
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_image_model: str = "gpt-image-1"
    openai_vision_model: str = "gpt-4o-mini"
    openai_timeout_seconds: float = Field(default=90.0, gt=0)
    openai_max_concurrency: int = Field(default=4, ge=1)
    # Prompts in any language: translated into English for the providers that read English
    # best (bot/core/requests/prompt_translation.py), with OPENAI_API_KEY / OPENAI_BASE_URL.
    prompt_translation: Literal["openai", "off"] = "off"
    prompt_translation_model: str = Field(default="gpt-4o-mini", min_length=1)
    prompt_translation_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    prompt_translation_max_concurrency: int = Field(default=4, ge=1)
    horde_api_url: str = "https://aihorde.net/api/v2"
    horde_api_key: SecretStr = SecretStr("0000000000")
    horde_models: Annotated[list[str], NoDecode] = Field(default_factory=list)
    horde_max_concurrency: int = Field(default=4, ge=1)
    sdwebui_url: str | None = None
    sdwebui_user: str | None = None
    sdwebui_password: SecretStr | None = None
    sdwebui_base_size: int = Field(default=1024, ge=256, le=2048)
    sdwebui_max_concurrency: int = Field(default=4, ge=1)
    # The ControlNet extension's IP-Adapter model for style references (unset: none).
    sdwebui_reference_model: str | None = None
    sdwebui_reference_module: str = "ip-adapter_clip_sd15"
    comfyui_url: str | None = None
    comfyui_workflow: Path | None = None
    comfyui_model: str = "v1-5-pruned-emaonly.safetensors"
    comfyui_base_size: int = Field(default=512, ge=256, le=2048)
    comfyui_max_concurrency: int = Field(default=4, ge=1)
    # Style references through IP-Adapter (the ComfyUI_IPAdapter_plus nodes): "shipped" for
    # workflows/reference.json, a path for one's own, unset for none.
    comfyui_reference_workflow: str | None = None
    provider_wait_seconds: float = Field(default=60.0, gt=0)

    # Queue and storage
    redis_url: str | None = None
    queue_name: str = "imaginebot:queue"
    bot_instance: str = Field(default="main", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    data_dir: Path = Path("./data")
    # Unset: the SQLite file under DATA_DIR. sqlite:///path, or postgresql://... for a store
    # that several bot processes share. A secret: the URL may carry a password.
    database_url: SecretStr | None = None
    # Several bot processes of one BOT_INSTANCE share its completion events: an event a
    # process read but did not finish is taken by another after this long without progress.
    event_claim_idle_seconds: float = Field(default=30.0, ge=1, le=3600)
    # Telegram long polling is done by one bot process at a time, holding a lease in Redis
    # that lasts this long unless renewed: another process polls this soon after its death.
    telegram_poll_lease_seconds: float = Field(default=6.0, ge=2, le=120)

    # Requests
    default_style: str = "photo"
    max_prompt_chars: int = Field(default=1000, ge=1, le=32000)
    job_timeout_seconds: float = Field(default=180.0, gt=0)
    job_max_tries: int = Field(default=3, ge=1, le=20)
    retry_backoff_seconds: float = Field(default=2.0, ge=0)
    worker_max_jobs: int = Field(default=16, ge=1)
    worker_poll_delay_seconds: float = Field(default=0.05, gt=0)
    worker_shutdown_grace_seconds: int = Field(default=20, ge=0)
    # Added to a worker process's niceness at start: a bot on the same machine comes first.
    worker_niceness: int = Field(default=10, ge=0, le=19)
    max_image_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    max_image_pixels: int = Field(default=40_000_000, ge=1_000_000)
    max_input_image_mb: float = Field(default=10.0, gt=0, le=50)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # Fairness, safety and privacy
    max_pending_per_user: int = Field(default=2, ge=1)
    daily_limit_per_user: int = Field(default=50, ge=1)
    daily_limit_per_scope: int | None = Field(default=500, ge=1)
    provider_daily_budget: int | None = Field(default=None, ge=1)
    banned_terms_file: Path | None = None
    moderation: Literal["openai", "off"] = "off"
    history_retention_days: int = Field(default=90, ge=0)
    max_request_age_seconds: float = Field(default=1800.0, gt=0)
    delivery_deadline_hours: float = Field(default=24.0, gt=0)
    health_port: int | None = Field(default=None, ge=1, le=65535)

    # Web gallery
    web_port: int | None = Field(default=None, ge=1, le=65535)
    # The address the gallery listens on: this machine only, unless a proxy or the Docker
    # image (0.0.0.0, every interface of the container) says otherwise.
    web_host: str = Field(default="127.0.0.1", min_length=1)
    public_url: str | None = Field(default=None, pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
    web_secret: SecretStr | None = None
    gallery_link_hours: float = Field(default=24.0, gt=0, le=24 * 366)
    # The brush editor (docs/editing.md): how long an editor link opens (Telegram's 🖌
    # carries one made with the picture; Discord's is made at the press), how old a Telegram
    # Mini App's initData may be when an edit is submitted, and the Mini App's short name
    # in BotFather (groups then get a t.me/<bot>/<app>?startapp= link).
    editor_link_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    webapp_auth_seconds: int = Field(default=3600, ge=60, le=86400)
    telegram_webapp_name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]{3,30}$")

    @field_validator("horde_models", mode="before")
    @classmethod
    def _split_models(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("image_providers", mode="before")
    @classmethod
    def _split_providers(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().lower() for part in value.split(",") if part.strip()]
        return value

    @field_validator("image_providers")
    @classmethod
    def _known_providers(cls, value: list[str]) -> list[str]:
        unknown = [p for p in value if p not in KNOWN_PROVIDERS]
        if unknown:
            raise ValueError(
                f"unknown provider id(s) {', '.join(unknown)}; known: {', '.join(KNOWN_PROVIDERS)}"
            )
        if len(set(value)) != len(value):
            raise ValueError("a provider is listed twice")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _webhook_secret_chars(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram accepts 1-256 characters of A-Z, a-z, 0-9, _ and -; blank means generate one.
        if value is None or not value.get_secret_value():
            return None
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()):
            raise ValueError("use 1-256 characters: letters, digits, _ and - (or leave it blank)")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        scheme = value.get_secret_value().strip().partition("://")[0].lower()
        if scheme not in ("sqlite", "postgresql", "postgres"):
            raise ValueError("use sqlite:///path/file.sqlite3 or postgresql://user@host/dbname")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("openai_image_model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()

    @field_validator("daily_limit_per_scope", mode="before")
    @classmethod
    def _zero_is_no_limit(cls, value: object) -> object:
        if isinstance(value, (int, str)) and str(value).strip() == "0":
            return None
        return value

    @model_validator(mode="after")
    def _shards_fit(self) -> Settings:
        if self.discord_shard_ids is not None and self.discord_shard_count is None:
            raise ValueError(
                "DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT (the total, the same everywhere)"
            )
        if self.discord_shard_count is not None and self.discord_shards:
            raise ValueError("set DISCORD_SHARDS or DISCORD_SHARD_COUNT, not both")
        ids = self.shard_ids
        if ids is not None and self.discord_shard_count is not None:
            if not ids or max(ids) >= self.discord_shard_count:
                raise ValueError(
                    f"DISCORD_SHARD_IDS: shard ids run from 0 to {self.discord_shard_count - 1} "
                    "(DISCORD_SHARD_COUNT - 1)"
                )
        return self

    @property
    def shard_ids(self) -> list[int] | None:
        """DISCORD_SHARD_IDS as a sorted list ("0-2,5": [0, 1, 2, 5]); None when unset."""
        if self.discord_shard_ids is None:
            return None
        ids: set[int] = set()
        for part in self.discord_shard_ids.split(","):
            low, _, high = part.strip().partition("-")
            ids.update(range(int(low), int(high or low) + 1))
        return sorted(ids)

    @model_validator(mode="after")
    def _translation_needs_a_key(self) -> Settings:
        if self.prompt_translation == "openai" and self.openai_api_key is None:
            raise ValueError("PROMPT_TRANSLATION=openai needs OPENAI_API_KEY")
        return self

    @model_validator(mode="after")
    def _default_providers(self) -> Settings:
        if not self.image_providers:
            self.image_providers = ["openai"] if self.openai_api_key else ["horde"]
        return self

    @property
    def providers(self) -> tuple[str, ...]:
        return tuple(self.image_providers)

    def max_concurrency(self, provider: str) -> int:
        """`<ID>_MAX_CONCURRENCY`: calls in flight at once to that provider, across all workers."""
        return int(getattr(self, f"{provider}_max_concurrency"))

    @property
    def provider_deadline_seconds(self) -> float:
        """How long one provider call may take: inside the job's own timeout."""
        return max(30.0, self.job_timeout_seconds - 10.0)

    @property
    def embedded_queue(self) -> bool:
        return self.redis_url is None

    @property
    def images_dir(self) -> Path:
        return self.data_dir / "images"

    @property
    def gallery_url(self) -> str | None:
        """Where gallery links point: PUBLIC_URL, else this machine's WEB_PORT."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://localhost:{self.web_port}" if self.web_port else None

    @property
    def database_path(self) -> Path:
        """The SQLite file: DATABASE_URL's when it is sqlite:///..., else the one in DATA_DIR."""
        url = self.database_url.get_secret_value() if self.database_url else ""
        if url.lower().startswith("sqlite:///") and len(url) > len("sqlite:///"):
            return Path(unquote(urlsplit(url).path[1:]))
        return self.data_dir / "imaginebot.sqlite3"


def load_settings(**overrides: object) -> Settings:
    """Build the one Settings object, turning validation errors into a message naming variables."""
    named = os.environ.get(ENV_FILE_VARIABLE, "").strip()
    if named and not Path(named).is_file():
        raise ConfigError(f"{ENV_FILE_VARIABLE} names {named}, which is not a readable file")
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        # One sentence naming each wrong variable and why; never the value (it may be a token).
        problems = []
        for error in exc.errors():
            name = "_".join(str(part) for part in error["loc"]).upper() or "a setting"
            problems.append(f"{name} is not valid ({error['msg']})")
        raise ConfigError("; ".join(problems) + "; fix it in the environment or in .env") from None
