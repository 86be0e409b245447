"""One small Django project for the local SPID/CIE OIDC federation the gateway is tested in (PyPI spid-cie-oidc):
FED_ROLE=ta runs the trust anchor (its `authority` app), FED_ROLE=rp a SPID relying party (its `relying_party`
app). Everything else comes from the environment that Tests/Federation/federation.py sets."""
import os

ROLE = os.environ["FED_ROLE"]
STATE = os.environ["FED_STATE"]           # the folder with the plan and the databases
TA = os.environ["FED_TA"]                 # the trust anchor's entity identifier
GATEWAY = os.environ.get("FED_GATEWAY", "")

SECRET_KEY = "test-only-" + ROLE          # a throwaway project on 127.0.0.1
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "fedproject.urls"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "spid_cie_oidc_accounts.User"
INSTALLED_APPS = [
    "django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions", "django.contrib.messages",
    "django.contrib.staticfiles", "django.contrib.admin",
    "spid_cie_oidc.accounts", "spid_cie_oidc.entity", "spid_cie_oidc.authority", "spid_cie_oidc.relying_party",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware", "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware", "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [os.path.join(os.path.dirname(__file__), "templates")], "APP_DIRS": True,
    "OPTIONS": {"context_processors": ["django.template.context_processors.request", "django.contrib.auth.context_processors.auth",
                                       "django.contrib.messages.context_processors.messages"]},
}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(STATE, ROLE + ".sqlite")}}
STATIC_URL = "/static/"
LOGGING = {"version": 1, "handlers": {"console": {"class": "logging.StreamHandler"}},
           "loggers": {"spid_cie_oidc": {"handlers": ["console"], "level": "INFO"}}}

# The relying party's entity configuration is served under its own path, as in the reference examples.
OIDC_PREFIX = "oidc/rp/" if ROLE == "rp" else ""
OIDCFED_DEFAULT_TRUST_ANCHOR = TA
OIDCFED_TRUST_ANCHORS = [TA]
OIDCFED_IDENTITY_PROVIDERS = {"spid": {GATEWAY: TA}, "cie": {}}
OIDCFED_ACR_PROFILES = "https://www.spid.gov.it/SpidL2"
# The gateway's public listener has a development certificate in the tests.
HTTPC_PARAMS = {"connection": {"ssl": False}, "session": {"timeout": __import__("aiohttp").ClientTimeout(total=10)}}
HTTPC_TIMEOUT = 10
LOGIN_REDIRECT_URL = "/oidc/rp/echo_attributes"
