"""The one place that reads minqing's settings (12-factor: environment variables).

Everything else receives a `Settings` object. With nothing set, minqing runs embedded: SQLite storage and
a SQLite-backed queue under `./var`.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import tempfile
import urllib.parse
from pathlib import Path
from types import MappingProxyType
from typing import Mapping, NamedTuple

log = logging.getLogger("minqing.settings")

PREFIX = "MINQING_"
MASK = "***"
# A misspelt mode must not fall back to sending mail (and the SMTP password) in clear.
SMTP_SECURITY = ("starttls", "ssl", "none")
# A setting or query parameter whose name contains one of these holds a secret.
SECRET_NAME = re.compile(r"KEY|SECRET|TOKEN|PASSWORD|PASS|SIGN|CREDENTIAL", re.IGNORECASE)


# Receipts, one-tap links and upload keys are HMACs under the secret key: a short one can be guessed.
MIN_SECRET_BYTES = 32


class SettingsError(ValueError):
    """A setting minqing must not start with; the command prints it and exits."""


# Never shown, not even masked.
_UNSHOWN = frozenset({"smtp_password", "credentials"})


# A NamedTuple, not a frozen dataclass: every function's cold start defines it, and a dataclass of this
# many fields costs milliseconds to define (it compiles its methods at import).
class Settings(NamedTuple):
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
    # gunicorn threads per web process (`minqing serve`). Each post on the embedded queue waits for the disk
    # before its 202; with more threads the processes keep the cores busy meanwhile.
    web_threads: int = 4
    log_level: str = "INFO"
    # Photos: `file:///path` (embedded default, under the data dir) or `s3://bucket` (+ endpoint for MinIO/OSS/COS).
    attachments_url: str = ""
    attachments_endpoint_url: str | None = None
    attachments_max_bytes: int = 10 * 1024 * 1024
    attachments_expiry_seconds: int = 300
    # A photo declaring more pixels than this is refused by its header, before any decoding (image bombs).
    attachments_max_pixels: int = 40_000_000
    # An upload no submission or case step names is removed by the sweep this long after its target
    # expired; far beyond queue latency, so a submission still queued never loses its photos.
    attachments_grace_seconds: int = 24 * 3600
    # Notifications: a failing channel is retried this often before the next channel is tried.
    notify_max_retries: int = 4
    channel_timeout_s: float = 10.0
    channel_break_after: int = 3
    channel_break_s: float = 30.0
    robot_per_minute: int = 20
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = ""
    # PEM file of the CA(s) that signed the SMTP server's certificate; empty: the system trust store.
    smtp_ca_file: str = ""
    # An SMTP connection unused this long is closed rather than reused (the server may have dropped it).
    smtp_idle_s: float = 60.0
    aws_endpoint_url: str | None = None
    aws_region: str = "cn-north-1"
    ses_from: str = ""
    link_ttl_hours: float = 72.0
    # Every SLA limit becomes this many seconds (trials, tests); None keeps the directory's limits.
    sla_seconds: float | None = None
    digest_at: str = "08:00"
    # Resolved cases nobody rated are closed after this many days (`minqing cases sweep`).
    auto_close_days: int = 7
    # A resolved case nobody rated gets one reminder to its reporter after this many days (before it closes).
    feedback_reminder_days: int = 5
    # Reporters who opted in with a mobile are texted by SNS (`on`); off, only e-mail reaches them.
    reporter_sms: bool = False
    # Flask-Limiter: limits per client address and per QR-code spot on the public endpoints; storage URL
    # (memory:// in each web process, or redis://…); `off` switches a limit off. Carrier NAT puts many phones
    # behind one address: 100 residents at one event, each with a form, its script, photos, the post, the
    # thank-you page and the status, make up to ~1,700 requests within minutes, and all of them name one spot.
    rate_limit_per_address: str = "1200/minute;10000/hour"
    # Counted on accepted submissions only, so invalid posts cannot lock a spot for everyone.
    rate_limit_per_spot: str = "100/minute;500/hour"
    rate_limit_storage_url: str = "memory://"
    # How many proxies (nginx) stand in front: their X-Forwarded-For and -Proto are believed, so limits go by
    # the client's address. 0: the headers are ignored, for anyone could send them.
    trusted_proxies: int = 0
    # API keys that may post Open311 service requests; none means Open311 posting is refused.
    open311_api_keys: tuple[str, ...] = ()
    # The staff console (工作台): a session ends after this long without a request, and after `session_hours`.
    session_idle_minutes: float = 120.0
    session_hours: float = 12.0
    # 企业微信网页授权: the corp id, the app's secret and agent id; the API's base URL (a local peer in tests),
    # and where browsers are sent to authorise (open.weixin.qq.com).
    wecom_corp_id: str = ""
    wecom_secret: str = ""
    wecom_agent_id: str = ""
    wecom_api_url: str = "https://qyapi.weixin.qq.com"
    wecom_open_url: str = "https://open.weixin.qq.com"
    # 钉钉 (DingTalk) 网页登录: the internal app's key and secret, the organisation (corpId) whose members may
    # sign in, and the three base URLs (a local peer in tests): the login page, the new API and the old one.
    dingtalk_app_key: str = ""
    dingtalk_app_secret: str = ""
    dingtalk_corp_id: str = ""
    dingtalk_login_url: str = "https://login.dingtalk.com"
    dingtalk_api_url: str = "https://api.dingtalk.com"
    dingtalk_oapi_url: str = "https://oapi.dingtalk.com"
    # The console's maps: a tile URL template (none: plain SVG, and no request leaves the site), the letters
    # or digits its `{s}` takes, the system the tiles are drawn in, and the credit their licence requires.
    map_tiles: str = ""
    map_tiles_subdomains: str = "abc"
    map_tiles_crs: str = "wgs84"
    map_attribution: str = ""
    extra: Mapping[str, str] = MappingProxyType({})
    # Channel credentials named by the directory (`webhook_env = "WECOM_JIANGLING"`); never printed.
    credentials: Mapping[str, str] = MappingProxyType({})

    def __repr__(self) -> str:
        # Settings end up in logs and tracebacks: never print a secret, a password in a URL or a token.
        shown = (f"{name}={redacted(name, getattr(self, name))!r}" for name in self._fields if name not in _UNSHOWN)
        return f"Settings({', '.join(shown)})"

    @property
    def embedded_queue(self) -> bool:
        return is_embedded_queue(self.broker_url)

    @property
    def map_tile_origins(self) -> tuple[str, ...]:
        """Where the browser fetches tiles from (the CSP's img-src names them); none without tiles."""
        return tile_origins(self.map_tiles, self.map_tiles_subdomains)

    def credential(self, name: str) -> str:
        """The value of the environment variable `name` a directory entry refers to."""
        value = self.credentials.get(name)
        if not value:
            raise LookupError(f"environment variable {name} (named in the directory) is not set")
        return value

    def with_overrides(self, **changes) -> "Settings":
        return self._replace(**changes)


def is_embedded_queue(broker_url: str) -> bool:
    return broker_url.startswith("sqlite:")


def _served_at(host: str | None, port: str | None) -> str:
    """Where `minqing serve` listens (its --host/--port, or MINQING_HOST/MINQING_PORT), as the default base
    of the links it sends: a wildcard address is reached on this machine as 127.0.0.1."""
    host = "127.0.0.1" if host in (None, "0.0.0.0", "::", "[::]") else host
    return f"http://{'[' + host + ']' if ':' in host and not host.startswith('[') else host}:{port or '8000'}"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings from `environ` (default: the process environment)."""
    env = os.environ if environ is None else environ

    def get(name: str, default: str | None = None) -> str | None:
        value = env.get(PREFIX + name)
        return value if value not in (None, "") else default

    data_dir = Path(get("DATA_DIR", "./var")).expanduser().resolve()
    directory = get("DIRECTORY")
    broker_url = get("BROKER_URL") or f"sqlite:///{data_dir / 'queue.db'}"
    return Settings(
        data_dir=data_dir,
        database_url=get("DATABASE_URL") or f"sqlite:///{data_dir / 'minqing.db'}",
        broker_url=broker_url,
        directory_path=Path(directory).expanduser() if directory else None,
        secret_key=_whole_secret(get("SECRET_KEY"), data_dir),
        base_url=(get("BASE_URL") or _served_at(get("HOST"), get("PORT"))).rstrip("/"),
        queue_name=get("QUEUE", "minqing"),
        max_body_bytes=int(get("MAX_BODY_BYTES", str(64 * 1024))),
        default_lang=get("LANG", "zh-CN"),
        visibility_timeout_ms=int(get("VISIBILITY_TIMEOUT_MS", "60000")),
        max_retries=int(get("MAX_RETRIES", "20")),
        min_backoff_ms=int(get("MIN_BACKOFF_MS", "1000")),
        max_backoff_ms=int(get("MAX_BACKOFF_MS", str(5 * 60_000))),
        worker_threads=int(get("WORKER_THREADS", "8")),
        web_threads=int(get("WEB_THREADS", "8" if is_embedded_queue(broker_url) else "4")),
        log_level=get("LOG_LEVEL", "INFO").upper(),
        attachments_url=get("ATTACHMENTS_URL") or (data_dir / "attachments").as_uri(),
        attachments_endpoint_url=get("ATTACHMENTS_ENDPOINT_URL"),
        attachments_max_bytes=int(get("ATTACHMENTS_MAX_BYTES", str(10 * 1024 * 1024))),
        attachments_expiry_seconds=int(get("ATTACHMENTS_EXPIRY_SECONDS", "300")),
        attachments_max_pixels=int(get("ATTACHMENTS_MAX_PIXELS", "40000000")),
        attachments_grace_seconds=int(get("ATTACHMENTS_GRACE_SECONDS", str(24 * 3600))),
        notify_max_retries=int(get("NOTIFY_MAX_RETRIES", "4")),
        channel_timeout_s=float(get("CHANNEL_TIMEOUT_S", "10")),
        channel_break_after=int(get("CHANNEL_BREAK_AFTER", "3")),
        channel_break_s=float(get("CHANNEL_BREAK_S", "30")),
        robot_per_minute=int(get("ROBOT_PER_MINUTE", "20")),
        smtp_host=get("SMTP_HOST", ""),
        smtp_port=int(get("SMTP_PORT", "587")),
        smtp_security=_one_of("SMTP_SECURITY", get("SMTP_SECURITY", "starttls").lower(), SMTP_SECURITY),
        smtp_user=get("SMTP_USER", ""),
        smtp_password=get("SMTP_PASSWORD", ""),
        smtp_from=get("SMTP_FROM", ""),
        smtp_ca_file=get("SMTP_CA_FILE", ""),
        smtp_idle_s=float(get("SMTP_IDLE_S", "60")),
        aws_endpoint_url=get("AWS_ENDPOINT_URL"),
        aws_region=get("AWS_REGION", "cn-north-1"),
        ses_from=get("SES_FROM", ""),
        link_ttl_hours=float(get("LINK_TTL_HOURS", "72")),
        sla_seconds=float(get("SLA_SECONDS")) if get("SLA_SECONDS") else None,
        digest_at=get("DIGEST_AT", "08:00"),
        auto_close_days=int(get("AUTO_CLOSE_DAYS", "7")),
        feedback_reminder_days=_count("FEEDBACK_REMINDER_DAYS", get("FEEDBACK_REMINDER_DAYS", "5")),
        reporter_sms=_one_of("REPORTER_SMS", get("REPORTER_SMS", "off").lower(), ("on", "off")) == "on",
        rate_limit_per_address=get("RATE_LIMIT_PER_ADDRESS", Settings._field_defaults["rate_limit_per_address"]),
        rate_limit_per_spot=get("RATE_LIMIT_PER_SPOT", Settings._field_defaults["rate_limit_per_spot"]),
        rate_limit_storage_url=get("RATE_LIMIT_STORAGE_URL", "memory://"),
        trusted_proxies=_count("TRUSTED_PROXIES", get("TRUSTED_PROXIES", "0")),
        open311_api_keys=tuple(k.strip() for k in get("OPEN311_API_KEYS", "").split(",") if k.strip()),
        session_idle_minutes=float(get("SESSION_IDLE_MINUTES", "120")),
        session_hours=float(get("SESSION_HOURS", "12")),
        wecom_corp_id=get("WECOM_CORP_ID", ""),
        wecom_secret=get("WECOM_SECRET", ""),
        wecom_agent_id=get("WECOM_AGENT_ID", ""),
        wecom_api_url=get("WECOM_API_URL", "https://qyapi.weixin.qq.com").rstrip("/"),
        wecom_open_url=get("WECOM_OPEN_URL", "https://open.weixin.qq.com").rstrip("/"),
        dingtalk_app_key=get("DINGTALK_APP_KEY", ""),
        dingtalk_app_secret=get("DINGTALK_APP_SECRET", ""),
        dingtalk_corp_id=get("DINGTALK_CORP_ID", ""),
        dingtalk_login_url=get("DINGTALK_LOGIN_URL", "https://login.dingtalk.com").rstrip("/"),
        dingtalk_api_url=get("DINGTALK_API_URL", "https://api.dingtalk.com").rstrip("/"),
        dingtalk_oapi_url=get("DINGTALK_OAPI_URL", "https://oapi.dingtalk.com").rstrip("/"),
        **_map_tiles(get),
        extra={k[len(PREFIX):]: v for k, v in env.items() if k.startswith(PREFIX)},
        credentials=MappingProxyType(dict(env)),
    )


# Tianditu (CGCS2000, which WGS-84 matches to centimetres) and an office's own tiles drawn from survey data
# need no shift; AutoNavi (高德) and Tencent tiles are GCJ-02 and are named so explicitly.
MAP_TILES_CRS = ("wgs84", "gcj02")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def _map_tiles(get) -> dict:
    template = get("MAP_TILES", "")
    subdomains = get("MAP_TILES_SUBDOMAINS", "abc")
    crs = _one_of("MAP_TILES_CRS", get("MAP_TILES_CRS", "wgs84").lower(), MAP_TILES_CRS)
    attribution = get("MAP_ATTRIBUTION", "").strip()
    if not re.fullmatch(r"[A-Za-z0-9]{1,20}", subdomains):
        raise SettingsError(f"{PREFIX}MAP_TILES_SUBDOMAINS must be letters or digits, one per subdomain "
                            f"(`abc`, `01234567`), not {subdomains!r}")
    if template:
        _check_tile_template(template, subdomains)
        if not attribution:
            raise SettingsError(f"{PREFIX}MAP_ATTRIBUTION must be set with {PREFIX}MAP_TILES: tile licences require "
                                "their credit on the map (e.g. `天地图 © 国家地理信息公共服务平台`)")
    if len(attribution) > 200 or any(c in attribution for c in "<>\n\r"):
        raise SettingsError(f"{PREFIX}MAP_ATTRIBUTION must be plain text on one line, at most 200 characters")
    return {"map_tiles": template, "map_tiles_subdomains": subdomains, "map_tiles_crs": crs,
            "map_attribution": attribution}


def _check_tile_template(template: str, subdomains: str) -> None:
    problem = None
    parts = urllib.parse.urlsplit(template)
    names = set(_PLACEHOLDER.findall(template))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problem = "must be an http(s) URL"
    elif re.search(r"[\s\"'<>;,\\]", template):
        problem = "must not contain spaces, quotes, <, >, ; , or \\"
    elif not {"z", "x", "y"} <= names or names - {"s", "z", "x", "y"}:
        problem = "must hold {z}, {x} and {y} (and optionally {s}), and no other placeholder"
    elif "@" in parts.netloc:
        problem = "must not carry a user or password (the browser would show them to anyone)"
    elif not all(re.fullmatch(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?", origin.split("://", 1)[1])
                 for origin in tile_origins(template, subdomains)):
        problem = "must name a plain host (and port)"
    if problem:
        raise SettingsError(f"{PREFIX}MAP_TILES {problem}, like https://tiles.example.gov.cn/{{z}}/{{x}}/{{y}}.png; "
                            f"not {template!r}")


def tile_origins(template: str, subdomains: str) -> tuple[str, ...]:
    """The origins a tile URL template reaches: one, or one per subdomain when its host holds `{s}`."""
    if not template:
        return ()
    parts = urllib.parse.urlsplit(template)
    hosts = [parts.netloc.replace("{s}", s) for s in subdomains] if "{s}" in parts.netloc else [parts.netloc]
    return tuple(dict.fromkeys(f"{parts.scheme}://{host}" for host in hosts))


def _one_of(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise SettingsError(f"{PREFIX}{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _count(name: str, value: str) -> int:
    if not value.isdigit():
        raise SettingsError(f"{PREFIX}{name} must be a whole number, 0 or more, not {value!r}")
    return int(value)


def redacted(name: str, value):
    """`value` as it may be shown: masked if `name` looks secret, and with passwords and tokens cut from URLs."""
    if isinstance(value, Mapping):
        return {key: redacted(key, item) for key, item in value.items()}
    if value in (None, "", ()):
        return value
    if SECRET_NAME.search(name):
        return MASK
    if isinstance(value, str) and "://" in value:
        return redacted_url(value)
    return value


def redacted_url(url: str) -> str:
    """`url` with the password of its user part and any secret-looking query parameter masked."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        user, has_password, _ = userinfo.partition(":")
        netloc = f"{user}:{MASK}@{host}" if has_password else f"{userinfo}@{host}"
    query = parts.query
    if query:
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        query = "&".join(f"{k}={MASK if SECRET_NAME.search(k) else v}" for k, v in pairs)
    if (netloc, query) == (parts.netloc, parts.query):
        return url  # nothing to hide; urlunsplit would also turn sqlite:////abs/path into sqlite://abs/path
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _whole_secret(configured: str | None, data_dir: Path) -> str:
    key = configured if configured is not None else _kept_secret(data_dir)
    if len(key.encode()) >= MIN_SECRET_BYTES:
        return key
    if configured is not None:
        where = f"{PREFIX}SECRET_KEY"
    else:  # an empty or cut file: a new key would orphan every receipt and link made under the old one
        where = f"{data_dir / 'secret_key'} (restore it, or remove it to have a new one made)"
    raise SettingsError(f"the secret key in {where} is {len(key.encode())} bytes long; it must be at least "
                        f"{MIN_SECRET_BYTES} bytes (make one with `openssl rand -base64 32`)")


def _kept_secret(data_dir: Path) -> str:
    # Receipts and idempotent ids are derived from the key, so it must survive restarts: keep it on disk.
    path = data_dir / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    from minqing.private_files import private_dir

    private_dir(data_dir)
    # Written whole to a temporary file, then linked into place: the key appears complete or not at all,
    # and of processes starting together the first link wins (a rename would let a later one replace a
    # key that others already use); the rest get FileExistsError and read the winner's.
    fd, temporary = tempfile.mkstemp(dir=data_dir, prefix=".secret_key.")  # mode 0600
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(MIN_SECRET_BYTES))
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        else:
            _sync_dir(data_dir)
            log.warning("MINQING_SECRET_KEY is not set; generated one and kept it in %s", path)
    finally:
        os.unlink(temporary)
    return path.read_text().strip()


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
