"""Database sessions that remember when they were last written, for a throttled sliding expiry.

The idle timeout slides: every save moves the session's end to GONGHAO_SESSION_IDLE from now.
Saving on every request (SESSION_SAVE_EVERY_REQUEST) costs an UPDATE and a commit per page, so
`SlidingSessionExpiryMiddleware` saves an otherwise unchanged session only once more than
GONGHAO_SESSION_REFRESH_SECONDS of its idle window has been used. The end is never later than
GONGHAO_SESSION_IDLE after the last request; it may come up to that many seconds earlier.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils import timezone


class SessionStore(DatabaseSessionStore):
    """Django's database session store, keeping the expiry date of the row it loaded."""

    # The row's expiry when it was read in this request (None: not read, or not found).
    stored_expiry: datetime | None = None

    def _get_session_from_db(self):
        row = super()._get_session_from_db()
        self.stored_expiry = row.expire_date if row is not None else None
        return row

    def save(self, must_create: bool = False) -> None:
        super().save(must_create=must_create)
        self.stored_expiry = self.get_expiry_date()

    def idle_window_used(self) -> float | None:
        """Seconds of the idle window used since the row was last written (None: unknown)."""
        if self.stored_expiry is None:
            return None
        return self.get_expiry_age() - (self.stored_expiry - timezone.now()).total_seconds()
