"""Configuration: defaults here, then environment variables, then overrides passed to `create_app`.

Every environment variable read here is listed in README.md.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """The app cannot start with this configuration; the message says what to set."""


class Defaults:
    ENV = "development"  # QREADY_ENV: development | production
    SECRET_KEY: str | None = None
    DATABASE_URL: str | None = None  # default: sqlite:///<instance>/qready.sqlite3
    # where the regulator statistics read their counts (a PostgreSQL read replica); default DATABASE_URL
    STATS_DATABASE_URL: str | None = None
    REDIS_URL: str | None = None
    # How many reverse proxies in front of the app set X-Forwarded-For/-Proto. 0 (the default): the
    # client's address is the connection's, and those headers, which anyone can send, are ignored.
    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh", "en")
    MAIL_SERVER: str | None = None  # without it, mail is written to the log
    MAIL_PORT = 587
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_USE_TLS = True
    MAIL_FROM = "QReady 质评通 <no-reply@qready.cn>"
    PUBLIC_URL = "http://127.0.0.1:5000"  # used in links inside mail
    EMAIL_TOKEN_MAX_AGE = 2 * 24 * 3600  # verification links: two days
    RESET_TOKEN_MAX_AGE = 3600  # password reset links: one hour
    INVITATION_MAX_AGE = 14 * 24 * 3600
    SIGNIN_LIMIT = 5  # sign-in attempts per account (a success starts again) ...
    SIGNIN_ADDRESS_LIMIT = 50  # ... and failed sign-ins per client address, whatever the account ...
    SIGNIN_WINDOW = 15 * 60  # ... in this many seconds (see webapp/ratelimit.py)
    TRUSTED_PROXIES = 0  # proxies in front of the app whose X-Forwarded-For/-Proto to believe
    API_RATE_LIMIT = "300 per minute"  # API requests per token (per address without one)
    # where the counts live; default: REDIS_URL, else a SQLite file in the instance folder that the
    # workers of this node share (a deployment of several nodes sets REDIS_URL)
    RATELIMIT_STORAGE_URI: str | None = None
    RATELIMIT_KEY_PREFIX = "qready"
    RATELIMIT_HEADERS_ENABLED = True  # X-RateLimit-* and Retry-After
    RATELIMIT_SWALLOW_ERRORS = True  # the storage away: count in each worker's memory meanwhile ...
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True  # ... rather than refuse or fail requests
    PASSWORD_MIN_LENGTH = 10
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = 14 * 24 * 3600  # the oldest session cookie accepted
    WTF_CSRF_TIME_LIMIT = 12 * 3600  # a form or page older than this must be reloaded before it can save
    REMEMBER_COOKIE_DURATION = 14 * 24 * 3600  # "keep me signed in on this device"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False  # follows SESSION_COOKIE_SECURE (true in production)
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    EVIDENCE_STORAGE = "local"  # local | s3
    S3_BUCKET: str | None = None  # required with EVIDENCE_STORAGE=s3
    S3_ENDPOINT_URL: str | None = None  # another S3-compatible service (MinIO, ...); unset: AWS S3
    S3_REGION = "us-east-1"
    S3_ACCESS_KEY_ID: str | None = None  # required with EVIDENCE_STORAGE=s3
    S3_SECRET_ACCESS_KEY: str | None = None  # required with EVIDENCE_STORAGE=s3
    STATS_MIN_GROUP = 5  # regulator statistics: a group of fewer firms shows as "< k"
    # the audit log's events are kept this many days, then `flask audit prune` deletes them; never fewer
    # than AUDIT_MIN_RETENTION_DAYS (the database refuses to delete younger rows; see docs/security.md)
    AUDIT_RETENTION_DAYS = 180
    S3_PREFIX = "evidence/"  # put before every object key
    # Billing (webapp/billing/): off without STRIPE_SECRET_KEY; then every organisation has this plan.
    BILLING_DEFAULT_PLAN = "consultant"  # an id of webapp/billing/plans.yaml; the demo runs with all on
    BILLING_GRACE_DAYS = 7  # after a failed payment, the plan stays this long before the downgrade
    STRIPE_SECRET_KEY: str | None = None
    STRIPE_WEBHOOK_SECRET: str | None = None  # required with STRIPE_SECRET_KEY
    STRIPE_API_BASE = "https://api.stripe.com"
    STRIPE_API_VERSION = "2025-09-30.clover"  # pinned: the shapes our code reads
    STRIPE_PAYMENT_METHODS = ("card", "alipay", "wechat_pay")  # those the Stripe account enables
    # where the billing page's forms may lead (CSP form-action: a browser follows a form's redirect
    # only to these): Stripe Checkout and the Customer Portal
    STRIPE_CHECKOUT_ORIGINS = ("https://checkout.stripe.com", "https://billing.stripe.com")
    STRIPE_PRICE_FIRM_PRO_MONTHLY: str | None = None
    STRIPE_PRICE_FIRM_PRO_YEARLY: str | None = None
    STRIPE_PRICE_CONSULTANT_MONTHLY: str | None = None
    STRIPE_PRICE_CONSULTANT_YEARLY: str | None = None
    # Background jobs without Redis (webapp/dbqueue.py): "thread" runs a worker thread in each app
    # process (started by its first request); "off" leaves them to `flask jobs work` processes.
    JOBS_WORKER = "thread"
    JOBS_POLL_SECONDS = 2.0  # how often an idle worker looks for a queued job
    JOBS_LEASE_SECONDS = 120  # a running job not heard from for this long is taken over by another worker
    TESTING = False


# Environment variables and how to read them: name -> (config key, parser)
def _bool(v: str) -> bool:
    return v.strip().lower() in {"1", "true", "yes", "on"}


ENV_VARS: dict[str, tuple[str, Any]] = {
    "QREADY_ENV": ("ENV", str),
    "SECRET_KEY": ("SECRET_KEY", str),
    "DATABASE_URL": ("DATABASE_URL", str),
    "STATS_DATABASE_URL": ("STATS_DATABASE_URL", str),
    "REDIS_URL": ("REDIS_URL", str),
    "MAIL_SERVER": ("MAIL_SERVER", str),
    "MAIL_PORT": ("MAIL_PORT", int),
    "MAIL_USERNAME": ("MAIL_USERNAME", str),
    "MAIL_PASSWORD": ("MAIL_PASSWORD", str),
    "MAIL_USE_TLS": ("MAIL_USE_TLS", _bool),
    "MAIL_FROM": ("MAIL_FROM", str),
    "PUBLIC_URL": ("PUBLIC_URL", str),
    "SESSION_COOKIE_SECURE": ("SESSION_COOKIE_SECURE", _bool),
    "RATELIMIT_STORAGE_URI": ("RATELIMIT_STORAGE_URI", str),
    "RATELIMIT_KEY_PREFIX": ("RATELIMIT_KEY_PREFIX", str),
    "SIGNIN_LIMIT": ("SIGNIN_LIMIT", int),
    "SIGNIN_ADDRESS_LIMIT": ("SIGNIN_ADDRESS_LIMIT", int),
    "SIGNIN_WINDOW": ("SIGNIN_WINDOW", int),
    "API_RATE_LIMIT": ("API_RATE_LIMIT", str),
    "TRUSTED_PROXIES": ("TRUSTED_PROXIES", int),
    "MAX_UPLOAD_MB": ("MAX_CONTENT_LENGTH", lambda v: int(v) * 1024 * 1024),
    "EVIDENCE_STORAGE": ("EVIDENCE_STORAGE", str),
    "S3_BUCKET": ("S3_BUCKET", str),
    "S3_ENDPOINT_URL": ("S3_ENDPOINT_URL", str),
    "S3_REGION": ("S3_REGION", str),
    "S3_ACCESS_KEY_ID": ("S3_ACCESS_KEY_ID", str),
    "S3_SECRET_ACCESS_KEY": ("S3_SECRET_ACCESS_KEY", str),
    "S3_PREFIX": ("S3_PREFIX", str),
    "BILLING_DEFAULT_PLAN": ("BILLING_DEFAULT_PLAN", str),
    "BILLING_GRACE_DAYS": ("BILLING_GRACE_DAYS", int),
    "STRIPE_SECRET_KEY": ("STRIPE_SECRET_KEY", str),
    "STRIPE_WEBHOOK_SECRET": ("STRIPE_WEBHOOK_SECRET", str),
    "STRIPE_API_BASE": ("STRIPE_API_BASE", str),
    "STRIPE_PAYMENT_METHODS": (
        "STRIPE_PAYMENT_METHODS",
        lambda v: tuple(m.strip() for m in v.split(",") if m.strip()),
    ),
    "STRIPE_CHECKOUT_ORIGINS": (
        "STRIPE_CHECKOUT_ORIGINS",
        lambda v: tuple(o.strip() for o in v.replace(",", " ").split() if o.strip()),
    ),
    "STRIPE_PRICE_FIRM_PRO_MONTHLY": ("STRIPE_PRICE_FIRM_PRO_MONTHLY", str),
    "STRIPE_PRICE_FIRM_PRO_YEARLY": ("STRIPE_PRICE_FIRM_PRO_YEARLY", str),
    "STRIPE_PRICE_CONSULTANT_MONTHLY": ("STRIPE_PRICE_CONSULTANT_MONTHLY", str),
    "STRIPE_PRICE_CONSULTANT_YEARLY": ("STRIPE_PRICE_CONSULTANT_YEARLY", str),
    "STATS_MIN_GROUP": ("STATS_MIN_GROUP", lambda v: max(int(v), 2)),
    "JOBS_WORKER": ("JOBS_WORKER", str),
    "JOBS_POLL_SECONDS": ("JOBS_POLL_SECONDS", float),
    "JOBS_LEASE_SECONDS": ("JOBS_LEASE_SECONDS", int),
    "AUDIT_RETENTION_DAYS": ("AUDIT_RETENTION_DAYS", int),
}

# Six months: what China's Cybersecurity Law (art. 21) asks a network operator to keep of its logs. The
# migration that lets `flask audit prune` delete old events refuses anything younger, in the database.
AUDIT_MIN_RETENTION_DAYS = 180


def load(instance_path: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the configuration mapping: defaults, then the environment, then `overrides`."""
    cfg: dict[str, Any] = {k: getattr(Defaults, k) for k in dir(Defaults) if k.isupper()}
    for var, (key, parse) in ENV_VARS.items():
        value = os.environ.get(var)
        if value not in (None, ""):
            cfg[key] = parse(value)
    cfg.update(overrides or {})

    if cfg["ENV"] not in {"development", "production"}:
        raise ConfigError(f"QREADY_ENV must be 'development' or 'production', not {cfg['ENV']!r}.")
    if not cfg.get("DATABASE_URL"):
        cfg["DATABASE_URL"] = "sqlite:///" + str(Path(instance_path) / "qready.sqlite3")
    if not cfg.get("RATELIMIT_STORAGE_URI"):
        cfg["RATELIMIT_STORAGE_URI"] = cfg.get("REDIS_URL") or "qready+sqlite://" + str(
            Path(instance_path).resolve() / "ratelimits.sqlite3"
        )
    if not cfg.get("SECRET_KEY"):
        if cfg["ENV"] == "production":
            raise ConfigError(
                "SECRET_KEY is not set. In production QReady needs a secret key from the environment, "
                "for example: export SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
            )
        cfg["SECRET_KEY"] = _development_secret(Path(instance_path))
    if int(cfg["AUDIT_RETENTION_DAYS"]) < AUDIT_MIN_RETENTION_DAYS:
        raise ConfigError(
            f"AUDIT_RETENTION_DAYS must be at least {AUDIT_MIN_RETENTION_DAYS} (six months of logs, as "
            f"China's Cybersecurity Law asks), not {cfg['AUDIT_RETENTION_DAYS']}."
        )
    check_evidence_storage(cfg)
    check_billing(cfg)
    return cfg


def check_billing(cfg: Mapping[str, Any]) -> None:
    """Billing on (a Stripe key) needs the webhook secret: without it no event could be verified."""
    from webapp.billing import plans

    if cfg.get("BILLING_DEFAULT_PLAN") not in plans.ids():
        raise ConfigError(
            f"BILLING_DEFAULT_PLAN must be one of {', '.join(plans.ids())}, not {cfg.get('BILLING_DEFAULT_PLAN')!r}."
        )
    if cfg.get("STRIPE_SECRET_KEY") and not cfg.get("STRIPE_WEBHOOK_SECRET"):
        raise ConfigError(
            "STRIPE_SECRET_KEY is set but STRIPE_WEBHOOK_SECRET is not: set the signing secret of the "
            "webhook endpoint /billing/webhook (see README.md)."
        )


EVIDENCE_BACKENDS = ("local", "s3")
_S3_REQUIRED = ("S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY")


def check_evidence_storage(cfg: Mapping[str, Any]) -> None:
    """Refuse an unknown evidence backend, or S3 without its bucket and credentials.

    The credentials are required rather than looked up: QReady never lets boto3 search its chain
    (files, instance metadata on the network) for them.
    """
    backend = cfg.get("EVIDENCE_STORAGE") or "local"
    if backend not in EVIDENCE_BACKENDS:
        raise ConfigError(f"EVIDENCE_STORAGE must be 'local' or 's3', not {backend!r}.")
    if backend == "s3":
        missing = [key for key in _S3_REQUIRED if not cfg.get(key)]
        if missing:
            raise ConfigError(
                f"EVIDENCE_STORAGE=s3 needs {', '.join(missing)}: set "
                f"{'it' if len(missing) == 1 else 'them'} in the environment (see README.md)."
            )


def _development_secret(instance: Path) -> str:
    """In development, generate a secret once and keep it in the instance folder."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
