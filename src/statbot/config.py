"""One Settings object, read once at start and passed down.

Sources, highest priority first: constructor arguments, environment variables (``STATBOT_*``),
an optional ``.env`` file, an optional ``statbot.toml`` file. Nothing else in statbot reads the
environment. Invalid settings raise :class:`statbot.errors.ConfigError` naming the setting.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from statbot.errors import ConfigError

OFFICIAL_API_URL = "https://api.telegram.org"
INF = float("inf")
QUOTA_ROLES = ("owner", "admin", "analyst", "viewer")
# The per-role quota defaults (issue 12). Viewers may not train; owners have no limits.
QUOTA_DEFAULTS: dict[str, dict[str, float]] = {
    "storage_mb": {"owner": INF, "admin": 5_000, "analyst": 1_000, "viewer": 100},
    "trainings_per_day": {"owner": INF, "admin": 100, "analyst": 20, "viewer": 0},
    "rows_per_dataset": {"owner": INF, "admin": INF, "analyst": 1_000_000, "viewer": 100_000},
}


class Settings(BaseSettings):
    """All of statbot's configuration. Frozen: build it once with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="STATBOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        toml_file="statbot.toml",
        frozen=True,
        extra="ignore",
    )

    # Telegram
    telegram_token: SecretStr | None = None
    telegram_api_url: str = OFFICIAL_API_URL
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    max_download_mb: float = Field(default=20.0, gt=0)
    allowed_users: Annotated[tuple[int, ...], NoDecode] = ()
    # Credit packs /buy offers (issue 12): "credits:stars" pairs, e.g. "10:50,50:200".
    credit_packs: Annotated[tuple[tuple[int, int], ...], NoDecode] = ((10, 50), (50, 200))

    # Access (issue 12)
    owner_ids: Annotated[tuple[int, ...], NoDecode] = ()
    default_role: Literal["analyst", "viewer"] = "analyst"
    invite_ttl_hours: float = Field(default=7 * 24.0, gt=0)
    # Quotas per role (issue 12): "analyst=500,viewer=100" (env) or a TOML table; the roles not
    # named keep their defaults (QUOTA_DEFAULTS); "unlimited" (or inf) lifts a limit.
    quota_storage_mb: Annotated[dict[str, float], NoDecode] = Field(
        default_factory=lambda: dict(QUOTA_DEFAULTS["storage_mb"])
    )
    quota_trainings_per_day: Annotated[dict[str, float], NoDecode] = Field(
        default_factory=lambda: dict(QUOTA_DEFAULTS["trainings_per_day"])
    )
    quota_rows_per_dataset: Annotated[dict[str, float], NoDecode] = Field(
        default_factory=lambda: dict(QUOTA_DEFAULTS["rows_per_dataset"])
    )
    # The incoming rate limit, per user: a token bucket (issue 12); 0 turns it off.
    rate_limit_per_minute: float = Field(default=60.0, ge=0)
    rate_limit_burst: int = Field(default=30, ge=1)

    # Storage
    data_dir: Path = Path("var")
    session_store: str = "sqlite"
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL", "EXTRA"] = "NORMAL"
    database_url: str | None = None
    local_path_roots: Annotated[tuple[Path, ...], NoDecode] = ()

    # Engine
    session_timeout_minutes: float = Field(default=60.0, gt=0)
    grace_period_minutes: float = Field(default=24 * 60.0, ge=0)
    max_history_messages: int = Field(default=50, ge=1)
    max_dataframe_size_mb: float = Field(default=200.0, gt=0)
    cleanup_interval_seconds: float = Field(default=60.0, gt=0)
    # Redis session store shared by replicas: a conversation's lease (issue 14). A replica that
    # dies holds its conversations this long; one paused longer can no longer commit.
    lease_seconds: float = Field(default=10.0, ge=0.5, le=600)
    shutdown_grace_seconds: float = Field(default=20.0, ge=0)

    # Data limits
    max_file_mb: float = Field(default=200.0, gt=0)
    max_rows: int = Field(default=5_000_000, ge=1)
    max_columns: int = Field(default=2_000, ge=1)
    max_cell_chars: int = Field(default=10_000, ge=1)
    max_excel_uncompressed_mb: float = Field(default=500.0, gt=0)

    # Jobs
    jobs: Literal["local", "temporal"] = "local"
    job_concurrency: int = Field(default=max(1, (os.cpu_count() or 2) - 1), ge=1)
    job_timeout_seconds: float = Field(default=1800.0, gt=0)
    job_memory_mb: int = Field(default=4096, ge=64)
    temporal_address: str = "127.0.0.1:7233"
    # STATBOT_JOBS=temporal (issue 14): the namespace and task queue of statbot's job workflows,
    # and whether the bot runs a worker itself (false: only `statbot worker` processes do).
    temporal_namespace: str = "default"
    temporal_task_queue: str = "statbot-jobs"
    # Prefixes the workflow ids, so deployments sharing a namespace never meet each other's
    # jobs (issue 14); unset: the task queue. Equal on every replica of one bot.
    temporal_deployment: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]{1,100}$")
    temporal_worker: bool = True
    # A job whose worker sends no heartbeat for this long (a worker killed outright) is retried
    # elsewhere; jobs beat every second, so a few seconds' gap is a stall, not a slow fit.
    temporal_heartbeat_seconds: float = Field(default=30.0, ge=3)

    # Operations
    health_port: int = Field(default=9876, ge=0, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    sandbox_port: int = Field(default=8765, ge=0, le=65535)

    @field_validator("session_store")
    @classmethod
    def _check_store(cls, value: str) -> str:
        if value in ("memory", "sqlite") or value.startswith(("redis://", "rediss://", "unix://")):
            return value
        raise ValueError("must be 'memory', 'sqlite' or a redis:// URL")

    @field_validator("log_format", "default_role", mode="before")
    @classmethod
    def _lower_format(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("telegram_api_url")
    @classmethod
    def _check_api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("local_path_roots", mode="before")
    @classmethod
    def _split_roots(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(Path(p) for p in value.split(os.pathsep) if p.strip())
        return value

    @field_validator("data_dir")
    @classmethod
    def _absolute_dir(cls, value: Path) -> Path:
        # Resolved once, here: job workers run inside their job folder, so a relative path handed
        # to a subprocess (the default ``var``) pointed nowhere (issue 9).
        return _absolute(value)

    @field_validator("local_path_roots")
    @classmethod
    def _absolute_roots(cls, value: tuple[Path, ...]) -> tuple[Path, ...]:
        return tuple(_absolute(p) for p in value)

    @field_validator("credit_packs", mode="before")
    @classmethod
    def _split_packs(cls, value: Any) -> Any:
        if isinstance(value, str):
            pairs = [p.split(":", 1) for p in value.replace(";", ",").split(",") if p.strip()]
            return tuple((int(c), int(s)) for c, s in pairs)
        return value

    @field_validator("allowed_users", "owner_ids", mode="before")
    @classmethod
    def _split_users(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(int(p) for p in value.replace(";", ",").split(",") if p.strip())
        if isinstance(value, int):
            return (value,)
        return value

    @field_validator(
        "quota_storage_mb", "quota_trainings_per_day", "quota_rows_per_dataset", mode="before"
    )
    @classmethod
    def _role_values(cls, value: Any, info: ValidationInfo) -> Any:
        """``"analyst=500, viewer=100"``, JSON or a mapping, laid over the roles' defaults."""
        if isinstance(value, str) and value.strip().startswith("{"):
            value = json.loads(value)
        elif isinstance(value, str):
            pairs = [p.split("=", 1) for p in value.replace(";", ",").split(",") if p.strip()]
            if any(len(p) != 2 for p in pairs):
                raise ValueError("must be role=value pairs, e.g. 'analyst=500,viewer=100'")
            value = {k: v for k, v in pairs}
        if not isinstance(value, dict):
            return value
        given = {str(k).strip().lower(): _quota_value(v) for k, v in value.items()}
        unknown = sorted(set(given) - set(QUOTA_ROLES))
        if unknown:
            raise ValueError(f"unknown role(s) {', '.join(unknown)}: use {', '.join(QUOTA_ROLES)}")
        assert info.field_name is not None
        return {**QUOTA_DEFAULTS[info.field_name.removeprefix("quota_")], **given}

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            TomlConfigSettingsSource(settings_cls),
        )

    @property
    def token(self) -> str | None:
        """The bot token in clear text (never log this)."""
        return self.telegram_token.get_secret_value() if self.telegram_token else None

    @property
    def mode(self) -> str:
        if not self.token:
            return "sandbox"
        return "webhook" if self.webhook_url else "polling"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "statbot.sqlite3"


def _quota_value(value: Any) -> float:
    if isinstance(value, str) and value.strip().lower() in ("unlimited", "none", "inf"):
        return INF
    number = float(value.strip() if isinstance(value, str) else value)
    if not number >= 0:
        raise ValueError(f"a quota must be 0 or more (or 'unlimited'), not {value!r}")
    return number


def _absolute(path: Path) -> Path:
    """``path`` made absolute against the working directory at settings load (``~`` expanded)."""
    return Path(os.path.abspath(path.expanduser()))


def load_settings(**overrides: Any) -> Settings:
    """Build the one Settings object; translate validation errors into ConfigError."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"]) or "settings"
        env = f"STATBOT_{name.upper()}"
        raise ConfigError(env, first["msg"]) from exc
