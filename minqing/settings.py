"""The one place that reads minqing's settings (12-factor: environment variables).

Everything else receives a `Settings` object. With nothing set, minqing runs embedded: SQLite storage and
a SQLite-backed queue under `./var`.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

log = logging.getLogger("minqing.settings")

PREFIX = "MINQING_"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    broker_url: str
    directory_path: Path | None
    secret_key: str
    base_url: str
    queue_name: str = "minqing"
    max_body_bytes: int = 64 * 1024
    default_lang: str = "zh-CN"
    # How long a fetched message stays invisible to other consumers of the embedded queue.
    visibility_timeout_ms: int = 60_000
    max_retries: int = 20
    min_backoff_ms: int = 1_000
    max_backoff_ms: int = 5 * 60_000
    worker_threads: int = 8
    log_level: str = "INFO"
    # Resolved cases nobody rated are closed after this many days (`minqing cases sweep`).
    auto_close_days: int = 7
    # Flask-Limiter: limits per client address and per QR-code spot on the public endpoints; storage URL
    # (memory:// in each web process, or redis://…); empty limits switch limiting off.
    rate_limit_per_address: str = "60/minute;600/hour"
    rate_limit_per_spot: str = "30/minute"
    rate_limit_storage_url: str = "memory://"
    # API keys that may post Open311 service requests; none means Open311 posting is refused.
    open311_api_keys: tuple[str, ...] = ()
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def embedded_queue(self) -> bool:
        return self.broker_url.startswith("sqlite:")

    def with_overrides(self, **changes) -> "Settings":
        return replace(self, **changes)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings from `environ` (default: the process environment)."""
    env = os.environ if environ is None else environ

    def get(name: str, default: str | None = None) -> str | None:
        value = env.get(PREFIX + name)
        return value if value not in (None, "") else default

    data_dir = Path(get("DATA_DIR", "./var")).expanduser().resolve()
    directory = get("DIRECTORY")
    return Settings(
        data_dir=data_dir,
        database_url=get("DATABASE_URL") or f"sqlite:///{data_dir / 'minqing.db'}",
        broker_url=get("BROKER_URL") or f"sqlite:///{data_dir / 'queue.db'}",
        directory_path=Path(directory).expanduser() if directory else None,
        secret_key=get("SECRET_KEY") or _kept_secret(data_dir),
        base_url=(get("BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
        queue_name=get("QUEUE", "minqing"),
        max_body_bytes=int(get("MAX_BODY_BYTES", str(64 * 1024))),
        default_lang=get("LANG", "zh-CN"),
        visibility_timeout_ms=int(get("VISIBILITY_TIMEOUT_MS", "60000")),
        max_retries=int(get("MAX_RETRIES", "20")),
        min_backoff_ms=int(get("MIN_BACKOFF_MS", "1000")),
        max_backoff_ms=int(get("MAX_BACKOFF_MS", str(5 * 60_000))),
        worker_threads=int(get("WORKER_THREADS", "8")),
        log_level=get("LOG_LEVEL", "INFO").upper(),
        auto_close_days=int(get("AUTO_CLOSE_DAYS", "7")),
        rate_limit_per_address=get("RATE_LIMIT_PER_ADDRESS", "60/minute;600/hour"),
        rate_limit_per_spot=get("RATE_LIMIT_PER_SPOT", "30/minute"),
        rate_limit_storage_url=get("RATE_LIMIT_STORAGE_URL", "memory://"),
        open311_api_keys=tuple(k.strip() for k in get("OPEN311_API_KEYS", "").split(",") if k.strip()),
        extra={k[len(PREFIX):]: v for k, v in env.items() if k.startswith(PREFIX)},
    )


def _kept_secret(data_dir: Path) -> str:
    # Receipts and idempotent ids are derived from the key, so it must survive restarts: keep it on disk.
    path = data_dir / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race; use its key
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(key)
    log.warning("MINQING_SECRET_KEY is not set; generated one and kept it in %s", path)
    return key
