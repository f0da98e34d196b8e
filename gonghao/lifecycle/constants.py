"""Constants of the lifecycle app."""

ONBOARDING_PURPOSE = "onboarding"
MAX_REASON = 500
MAX_ROLES = 20
MAX_REPORT_LABEL = 255
# The successor of an offboarding when records go to the public pool, as the API shows it.
POOL = "pool"
