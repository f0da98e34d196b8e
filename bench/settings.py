"""The product's settings, plus the bare baseline views the benchmarks compare against."""

from gonghao.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# The login benchmark logs in many times a minute from one address: measure the login, not
# allauth's throttle (429 after a few dozen attempts).
ACCOUNT_RATE_LIMITS = False
