"""Database sessions that remember when they were last written, for a throttled sliding expiry.

The idle timeout slides: every save moves the session's end to GONGHAO_SESSION_IDLE from now.
Saving on every request (SESSION_SAVE_EVERY_REQUEST) costs an UPDATE and a commit per page, so
`SlidingSessionExpiryMiddleware` saves an otherwise unchanged session only once more than
GONGHAO_SESSION_REFRESH_SECONDS of its idle window has been used. The end is never later than
GONGHAO_SESSION_IDLE after the last request; it may come up to that many seconds earlier.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import router
from django.db.models import CharField, DateTimeField
from django.utils import timezone
from django.utils.crypto import get_random_string

from gonghao.core.prepared import Bound, PreparedQuery

# Every page reads its session: compiled once per connection (core/prepared.py).
LIVE_SESSION = PreparedQuery(
    lambda: DatabaseSessionStore.get_model_class().objects.filter(
        session_key=Bound("session_key", CharField()),
        expire_date__gt=Bound("now", DateTimeField()),
    )[:1]
)


class SessionStore(DatabaseSessionStore):
    """Django's database session store, keeping the expiry date of the row it loaded, and
    writing a session whose key was cycled (at login) once, with the rest of the request's
    changes, instead of inserting it at once and updating it at the end of the request."""

    # The row's expiry when it was read in this request (None: not read, or not found).
    stored_expiry: datetime | None = None
    # The key was cycled and the row under the new key is not written yet.
    _insert_on_save = False
    # (key, serialised data) as `write_now` wrote them: the end-of-request save is skipped
    # while the session still holds exactly that.
    _written_now: tuple[str | None, bytes] | None = None

    def _get_session_from_db(self):
        row = LIVE_SESSION.first(session_key=self.session_key, now=timezone.now())
        if row is None:
            self._session_key = None
        self.stored_expiry = row.expire_date if row is not None else None
        return row

    def _get_new_session_key(self) -> str:
        # Django asks the database whether the random key is taken (one query per login);
        # every new key here is written with must_create=True, whose INSERT refuses a taken
        # key (CreateError), and `save` and `create` then draw another.
        return get_random_string(32, VALID_KEY_CHARS)

    def cycle_key(self) -> None:
        data = self._session
        old_key = self.session_key
        self._session_key = self._get_new_session_key()
        self._session_cache = data
        self._insert_on_save = True
        self.modified = True  # SessionMiddleware writes it on the way out
        if old_key:
            self.delete(old_key)

    def _state(self) -> tuple[str | None, bytes]:
        return self.session_key, self.serializer().dumps(self._get_session(no_load=True))

    def write_now(self) -> None:
        """Write the session at once, in the caller's transaction (the login's, so that its
        session row commits with its audit event in one commit) rather than on the way out;
        SessionMiddleware's save then writes again only what changed since."""
        if self._insert_on_save and self.session_key:
            # The key was just drawn (32 random characters): inserted without the savepoint
            # `save` wraps it in to draw again on a clash. A clash, about one chance in
            # 10**49, fails the login, which the employee repeats; the savepoint would cost
            # two more statements on every login.
            row = self.create_model_instance(self._get_session(no_load=True))
            row.save(force_insert=True, using=router.db_for_write(self.model, instance=row))
            self._insert_on_save = False
            self.stored_expiry = self.get_expiry_date()
        else:
            self.save()
        self._written_now = self._state()

    def save(self, must_create: bool = False) -> None:
        if self._written_now is not None and not must_create:
            if self._written_now == self._state():
                return
            self._written_now = None
        if self._insert_on_save:
            self._insert_on_save = False
            while True:
                try:
                    super().save(must_create=True)
                    break
                except CreateError:  # another session took the key meanwhile
                    self._session_key = self._get_new_session_key()
        else:
            super().save(must_create=must_create)
        self.stored_expiry = self.get_expiry_date()

    def idle_window_used(self) -> float | None:
        """Seconds of the idle window used since the row was last written (None: unknown)."""
        if self.stored_expiry is None:
            return None
        return self.get_expiry_age() - (self.stored_expiry - timezone.now()).total_seconds()
