"""Employee lifecycle: onboarding requests (access reviews and offboarding come later)."""
