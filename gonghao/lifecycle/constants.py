"""Constants of the lifecycle app."""

ONBOARDING_PURPOSE = "onboarding"
MAX_REASON = 500
MAX_ROLES = 20
