"""Gonghao settings: one module, every deployment knob read from the environment."""

from datetime import timedelta
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
PACKAGE_DIR = Path(__file__).resolve().parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env.str("GONGHAO_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("GONGHAO_DEBUG", default=False)
# `make run` serves plain HTTP on loopback; everywhere else the defaults are HTTPS-only.
LOCAL_HTTP = DEBUG or env.bool("GONGHAO_LOCAL_HTTP", default=False)
SECRET_KEY = env.str("GONGHAO_SECRET_KEY", default="")
if not SECRET_KEY:
    # A missing key must never silently fall back to a shared constant in production:
    # keep a random key in var/ so a single-machine install stays stable across restarts.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    _key_file = VAR_DIR / "secret_key"
    if not _key_file.exists():
        from django.core.management.utils import get_random_secret_key

        _key_file.write_text(get_random_secret_key() + get_random_secret_key())
        _key_file.chmod(0o600)
    SECRET_KEY = _key_file.read_text().strip()

ALLOWED_HOSTS = env.list("GONGHAO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("GONGHAO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "phonenumber_field",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "gonghao.core",
    "gonghao.audit",
    "gonghao.org",
    "gonghao.accounts",
    "gonghao.access",
    "gonghao.crm",
    "gonghao.messaging",
    "gonghao.lifecycle",
    "gonghao.transfer",
    "gonghao.reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "gonghao.core.middleware.RequestContextMiddleware",
    "gonghao.core.middleware.ApiJsonErrorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "gonghao.accounts.middleware.SlidingSessionExpiryMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "gonghao.core.middleware.ViewerTimeZoneMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "gonghao.accounts.middleware.PreferredLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "gonghao.accounts.middleware.SessionLifetimeMiddleware",
    "gonghao.accounts.middleware.PasswordChangeRequiredMiddleware",
    "gonghao.accounts.middleware.SecondFactorRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "gonghao.accounts.middleware.UserSessionActivityMiddleware",
]

ROOT_URLCONF = "gonghao.urls"
WSGI_APPLICATION = "gonghao.wsgi.application"

FORM_RENDERER = "gonghao.core.forms_renderer.FormRenderer"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "gonghao.core.context_processors.navigation",
            ],
        },
    },
]

# --- Databases -------------------------------------------------------------------------------
DEFAULT_SQLITE_PATH = VAR_DIR / "gonghao.sqlite3"
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{DEFAULT_SQLITE_PATH}"),
}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    if _db["NAME"] != ":memory:":
        Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    _db.setdefault("OPTIONS", {}).update(
        {
            # IMMEDIATE: a write transaction takes the write lock at BEGIN, so two writers
            # queue on the busy timeout instead of deadlocking on a read-to-write upgrade.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            ),
        }
    )
elif _db["ENGINE"] in ("django.db.backends.postgresql", "django.db.backends.postgresql_psycopg2"):
    _db["ENGINE"] = "django.db.backends.postgresql"
    _db.setdefault("CONN_MAX_AGE", env.int("GONGHAO_DB_CONN_MAX_AGE", default=60))
    _db["CONN_HEALTH_CHECKS"] = True
    # Values bound on the server, apart from the SQL: psycopg then prepares a statement run
    # `prepare_threshold` times on a connection and PostgreSQL keeps its plan, instead of
    # parsing and planning every request's queries anew (docs/performance.md). Django leaves
    # preparing off (None) unless told. Behind a transaction-mode pooler that cannot keep
    # prepared statements, GONGHAO_DB_PREPARE_THRESHOLD=none. Options in DATABASE_URL's query
    # string (?server_side_binding=false) win.
    _options = _db.setdefault("OPTIONS", {})
    _options.setdefault(
        "server_side_binding", env.bool("GONGHAO_DB_SERVER_SIDE_BINDING", default=True)
    )
    if isinstance(_options["server_side_binding"], str):  # "?server_side_binding=true"
        _options["server_side_binding"] = env.parse_value(_options["server_side_binding"], bool)
    _threshold = env.str("GONGHAO_DB_PREPARE_THRESHOLD", default="5").strip().lower()
    _options.setdefault(
        "prepare_threshold", None if _threshold in ("", "none", "off") else int(_threshold)
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": env.cache_url("GONGHAO_CACHE_URL", default="dbcache://gonghao_cache"),
}

# --- Authentication ---------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.Employee"
AUTHENTICATION_BACKENDS = ["gonghao.accounts.backends.EmployeeBackend"]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

PASSWORD_HASHERS = [
    "gonghao.accounts.hashers.GonghaoArgon2Hasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
# Argon2id cost; the hasher refuses anything below t=2, m=19 MiB (OWASP's floor).
GONGHAO_ARGON2_TIME_COST = env.int("GONGHAO_ARGON2_TIME_COST", default=2)
GONGHAO_ARGON2_MEMORY_KIB = env.int("GONGHAO_ARGON2_MEMORY_KIB", default=19456)
GONGHAO_ARGON2_PARALLELISM = env.int("GONGHAO_ARGON2_PARALLELISM", default=1)

# Password policy: a named preset, then any knob overridden one by one.
GONGHAO_PASSWORD_PRESET = env.str("GONGHAO_PASSWORD_PRESET", default="global")
GONGHAO_PASSWORD_OVERRIDES = {
    key: env(f"GONGHAO_PASSWORD_{key.upper()}", cast=cast)
    for key, cast in (
        ("min_length", int),
        ("require_classes", int),
        ("history", int),
        ("max_age_days", int),
        ("expiry_warning_days", int),
    )
    if env.str(f"GONGHAO_PASSWORD_{key.upper()}", default="") != ""
}
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "gonghao.accounts.validators.LengthValidator"},
    {"NAME": "gonghao.accounts.validators.PersonalInfoValidator"},
    {"NAME": "gonghao.accounts.validators.BlocklistValidator"},
    {"NAME": "gonghao.accounts.validators.CharacterClassValidator"},
    {"NAME": "gonghao.accounts.validators.HistoryValidator"},
]

# Lockout: failures within the window lock the 工号; each further lockout doubles the time.
GONGHAO_LOCKOUT_THRESHOLD = env.int("GONGHAO_LOCKOUT_THRESHOLD", default=5)
GONGHAO_LOCKOUT_WINDOW = timedelta(minutes=env.int("GONGHAO_LOCKOUT_WINDOW_MINUTES", default=15))
GONGHAO_LOCKOUT_DURATION = timedelta(
    minutes=env.int("GONGHAO_LOCKOUT_DURATION_MINUTES", default=15)
)
GONGHAO_LOCKOUT_MAX_DURATION = timedelta(
    minutes=env.int("GONGHAO_LOCKOUT_MAX_DURATION_MINUTES", default=24 * 60)
)
GONGHAO_IP_FAILURE_LIMIT = env.int("GONGHAO_IP_FAILURE_LIMIT", default=50)
GONGHAO_IP_FAILURE_WINDOW = timedelta(
    minutes=env.int("GONGHAO_IP_FAILURE_WINDOW_MINUTES", default=15)
)

# 工号 format: prefix + zero-padded sequence + one check digit.
GONGHAO_EMPLOYEE_ID_PREFIX = env.str("GONGHAO_EMPLOYEE_ID_PREFIX", default="E")
GONGHAO_EMPLOYEE_ID_DIGITS = env.int("GONGHAO_EMPLOYEE_ID_DIGITS", default=6)

# API tokens
GONGHAO_API_TOKEN_TTL = timedelta(hours=env.int("GONGHAO_API_TOKEN_TTL_HOURS", default=12))

# --- Sessions and cookies ---------------------------------------------------------------------
GONGHAO_SESSION_IDLE = timedelta(minutes=env.int("GONGHAO_SESSION_IDLE_MINUTES", default=30))
GONGHAO_SESSION_ABSOLUTE = timedelta(hours=env.int("GONGHAO_SESSION_ABSOLUTE_HOURS", default=12))
SESSION_COOKIE_AGE = int(GONGHAO_SESSION_IDLE.total_seconds())
# Sliding idle timeout without a database write per page: a session is saved again (its end
# moved to GONGHAO_SESSION_IDLE from now) once more than this much of the idle window has been
# used since its last save (gonghao.accounts.middleware.SlidingSessionExpiryMiddleware).
SESSION_ENGINE = "gonghao.accounts.session_store"
GONGHAO_SESSION_REFRESH_SECONDS = env.int("GONGHAO_SESSION_REFRESH_SECONDS", default=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("GONGHAO_SECURE_COOKIES", default=not LOCAL_HTTP)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_NAME = "gonghao_session"
LANGUAGE_COOKIE_NAME = "gonghao_language"
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
PASSWORD_RESET_TIMEOUT = 10 * 60

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env.bool("GONGHAO_SSL_REDIRECT", default=not LOCAL_HTTP)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("GONGHAO_HSTS_SECONDS", default=0 if LOCAL_HTTP else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("GONGHAO_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("GONGHAO_HSTS_PRELOAD", default=False)
# Joining the browsers' HSTS preload list binds the whole domain for months: the domain
# owner decides (GONGHAO_HSTS_PRELOAD=1); the check that nags about it is silenced.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
if env.bool("GONGHAO_BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
GONGHAO_TRUSTED_PROXY_COUNT = env.int("GONGHAO_TRUSTED_PROXY_COUNT", default=0)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("GONGHAO_MAX_BODY_BYTES", default=2_621_440)

# --- allauth ----------------------------------------------------------------------------------
ACCOUNT_ADAPTER = "gonghao.accounts.adapter.EmployeeAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = "employee_id"
ACCOUNT_USER_MODEL_EMAIL_FIELD = "email"
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PRESERVE_USERNAME_CASING = False
ACCOUNT_PASSWORD_INPUT_RENDER_VALUE = False
# Our own lockout (accounts.services) replaces allauth's login-failure rate limit.
ACCOUNT_RATE_LIMITS = {"login_failed": False}

# Second factors (allauth.mfa): TOTP, recovery codes, WebAuthn keys as a second factor only.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = "Gonghao"
MFA_RECOVERY_CODE_COUNT = 10
MFA_RECOVERY_CODES_SHOW_ONCE = True
MFA_PASSKEY_LOGIN_ENABLED = False
MFA_PASSKEY_SIGNUP_ENABLED = False
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = LOCAL_HTTP
# TOTP secrets and recovery-code seeds are encrypted at rest (gonghao.accounts.mfa_adapter).
MFA_ADAPTER = "gonghao.accounts.mfa_adapter.EncryptingMFAAdapter"
GONGHAO_MFA_KEY = env.str("GONGHAO_MFA_KEY", default="")
GONGHAO_MFA_KEY_FALLBACKS = env.list("GONGHAO_MFA_KEY_FALLBACKS", default=[])
MFA_FORMS = {"authenticate": "gonghao.accounts.mfa_forms.LockoutAwareAuthenticateForm"}
# Roles whose holders must enrol a second factor; the mlps3 preset (等保三级) requires it of all.
# "My security": sessions (device, IP, last seen) tracked on each request by allauth.usersessions.
USERSESSIONS_TRACK_ACTIVITY = True
# Step-up: sensitive actions need a password or second-factor check newer than this.
GONGHAO_STEP_UP_MINUTES = env.int("GONGHAO_STEP_UP_MINUTES", default=10)
ACCOUNT_REAUTHENTICATION_TIMEOUT = GONGHAO_STEP_UP_MINUTES * 60

# One-time codes by SMS or e-mail as a fallback second factor at login (off by default; never
# under the mlps3 preset, where a cryptographic factor — TOTP or a security key — is required).
GONGHAO_MFA_FALLBACK_CODES = env.bool("GONGHAO_MFA_FALLBACK_CODES", default=False)

GONGHAO_MFA_REQUIRED_ROLES = env.list(
    "GONGHAO_MFA_REQUIRED_ROLES", default=["system_admin", "security_admin", "auditor"]
)
GONGHAO_MFA_REQUIRED_FOR_ALL = env.bool(
    "GONGHAO_MFA_REQUIRED_FOR_ALL", default=GONGHAO_PASSWORD_PRESET == "mlps3"
)

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = env.str("GONGHAO_TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

PHONENUMBER_DEFAULT_REGION = env.str("GONGHAO_PHONE_REGION", default="CN")
PHONENUMBER_DEFAULT_FORMAT = "E164"

# --- Static files -----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Outbox (messages are written here until a real sender is configured) ---------------------
GONGHAO_OUTBOX_DIR = Path(env.str("GONGHAO_OUTBOX_DIR", default=str(VAR_DIR / "outbox")))

# --- Audit ------------------------------------------------------------------------------------
GONGHAO_AUDIT_PAGE_SIZE = 50
# PostgreSQL: the log is this many hash chains, each locked by one writer at a time, so
# concurrent audited transactions do not queue on a single chain head. SQLite has one writer
# at a time, hence one chain. Lowering it later is safe: old chains stay verified.
GONGHAO_AUDIT_CHAINS = env.int("GONGHAO_AUDIT_CHAINS", default=16)

# --- Logging ----------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("GONGHAO_LOG_LEVEL", default="INFO")},
}

APP_TITLE = _("Gonghao CRM")

# Four eyes on onboarding: an approver must hold every role the request asks for.
GONGHAO_APPROVER_MUST_HOLD_ROLES = env.bool("GONGHAO_APPROVER_MUST_HOLD_ROLES", default=True)
# Access reviews: reminders this many days before the due date; a new campaign's default length.
GONGHAO_ACCESS_REVIEW_REMINDER_DAYS = env.int("GONGHAO_ACCESS_REVIEW_REMINDER_DAYS", default=3)
GONGHAO_ACCESS_REVIEW_DEFAULT_DAYS = env.int("GONGHAO_ACCESS_REVIEW_DEFAULT_DAYS", default=14)

# Departed employees' phone and e-mail are erased this many days after the departure date.
GONGHAO_DEPARTED_PII_RETENTION_DAYS = env.int("GONGHAO_DEPARTED_PII_RETENTION_DAYS", default=365)
# Active accounts with no successful login for this many days are disabled (0 turns it off).
GONGHAO_DORMANT_DAYS = env.int("GONGHAO_DORMANT_DAYS", default=90)

# Trace reads of personal data: opening a customer and every export write an audit event.
GONGHAO_AUDIT_READS = env.bool("GONGHAO_AUDIT_READS", default=True)

# Public pool (公海): owned customers not followed up for this many days return to the pool
# (daily job crm.pool_return); an employee may hold at most this many customers claimed from it.
GONGHAO_POOL_RETURN_DAYS = env.int("GONGHAO_POOL_RETURN_DAYS", default=30)
GONGHAO_POOL_CLAIM_CAP = env.int("GONGHAO_POOL_CLAIM_CAP", default=50)
# --- Import and export ------------------------------------------------------------------------
GONGHAO_IMPORT_MAX_BYTES = env.int("GONGHAO_IMPORT_MAX_BYTES", default=20 * 1024 * 1024)
GONGHAO_IMPORT_MAX_ROWS = env.int("GONGHAO_IMPORT_MAX_ROWS", default=200_000)
