"""Limits and defaults of the messaging app."""

from datetime import timedelta

# A message is tried this many times in all, then marked failed.
MAX_ATTEMPTS = 8
# Waits between tries double from the first one, up to the cap: 1, 2, 4 … minutes.
RETRY_BASE = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=6)
# A claimed message is not picked again for this long: if a worker dies while sending, another
# tries again after the lease. Delivery timeouts are far below it.
CLAIM_LEASE = timedelta(minutes=5)
DELIVERY_TIMEOUT_SECONDS = 20

# What a secret message's body and params become once they are of no further use.
REDACTED_SENT = "[sent]"
REDACTED_FAILED = "[failed]"

MAX_RECIPIENT = 254
MAX_ERROR = 1000

LANGUAGES = ("zh-hans", "en")
