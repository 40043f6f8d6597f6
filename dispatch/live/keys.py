"""API keys: created once, stored as a slow salted hash, checked fast, revocable.

A key reads ``dsp_<key id>_<secret>``. Only the key id, the role, a random salt and the scrypt
hash of the secret are stored (scrypt with n=2**14, r=8, p=1: tens of milliseconds per guess,
so a stolen table is no list of keys). A key is hashed once per service process: after the
first check the service keeps the SHA-256 of the whole key in memory, and it re-reads the
revoked key ids at most every `REVOCATION_REFRESH_S` seconds, so a key revoked from the
command line stops working within that time (at once when revoked through the API).

Roles are ordered: ``reader`` may read (GET), ``dispatcher`` may also send events, calls and
assignments, ``admin`` may also manage keys and read the audit log.
"""

from __future__ import annotations

import dispatch.live.web_stack  # noqa: F401  (names the extra when it is missing)

# isort: split

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from dispatch.errors import InputError
from dispatch.live.store import Store, api_keys

ROLES: tuple[str, ...] = ("reader", "dispatcher", "admin")
"""Roles in increasing order of what they may do."""

REVOCATION_REFRESH_S = 2.0
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


def role_allows(role: str, needed: str) -> bool:
    """True when a key of ``role`` may do what ``needed`` may.

    >>> role_allows("admin", "reader"), role_allows("reader", "dispatcher")
    (True, False)
    """
    return ROLES.index(role) >= ROLES.index(needed)


def _hash(secret: str, salt: str) -> str:
    return hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt), **_SCRYPT).hex()


@dataclass(frozen=True)
class KeyInfo:
    """A stored key, without its secret."""

    key_id: str
    role: str
    label: str | None
    created_at_s: float
    revoked_at_s: float | None


class KeyRing:
    """Create, list, revoke and check API keys in a `Store`.

    Parameters
    ----------
    store
        The service database.
    clock
        Wall clock, Unix seconds.
    """

    def __init__(self, store: Store, clock: Any = time.time) -> None:
        self.store = store
        self.clock = clock
        self._verified: dict[str, tuple[str, str]] = {}  # sha256(key) -> (key id, role)
        self._revoked: set[str] = set()
        self._revoked_read_s = -1e18
        self._lock = threading.Lock()

    def create(self, role: str, label: str | None = None) -> str:
        """Store a new key of ``role`` and return it (the only time it is shown)."""
        if role not in ROLES:
            raise InputError(f"unknown role {role!r} (roles: {', '.join(ROLES)})", field="role")
        key_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_hex(16)
        with self.store.engine.begin() as connection:
            connection.execute(
                api_keys.insert().values(
                    key_id=key_id,
                    role=role,
                    salt=salt,
                    hash=_hash(secret, salt),
                    label=label,
                    created_at_s=self.clock(),
                    revoked_at_s=None,
                )
            )
        return f"dsp_{key_id}_{secret}"

    def list(self) -> list[KeyInfo]:
        """Every key, oldest first, without secrets."""
        query = sa.select(api_keys).order_by(api_keys.c.created_at_s, api_keys.c.key_id)
        with self.store.engine.connect() as connection:
            return [
                KeyInfo(r.key_id, r.role, r.label, r.created_at_s, r.revoked_at_s)
                for r in connection.execute(query)
            ]

    def revoke(self, key_id: str) -> bool:
        """Revoke a key; False when there is no such key (or it was revoked already)."""
        with self.store.engine.begin() as connection:
            done = connection.execute(
                api_keys.update()
                .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at_s.is_(None))
                .values(revoked_at_s=self.clock())
            ).rowcount
        with self._lock:
            self._revoked.add(key_id)
        return bool(done)

    def role_of(self, key: str) -> str | None:
        """The role of a valid, unrevoked key, or None."""
        fingerprint = hashlib.sha256(key.encode()).hexdigest()
        self._refresh_revoked()
        with self._lock:
            known = self._verified.get(fingerprint)
            if known is not None:
                return None if known[0] in self._revoked else known[1]
        parts = key.split("_", 2)  # the secret may hold underscores; the id is hex
        if len(parts) != 3 or parts[0] != "dsp" or not parts[1] or not parts[2]:
            return None
        key_id, secret = parts[1], parts[2]
        query = sa.select(api_keys).where(api_keys.c.key_id == key_id)
        with self.store.engine.connect() as connection:
            row = connection.execute(query).first()
        if row is None or row.revoked_at_s is not None:
            return None
        if not hmac.compare_digest(_hash(secret, row.salt), row.hash):
            return None
        with self._lock:
            self._verified[fingerprint] = (key_id, row.role)
        return str(row.role)

    def known_role(self, key: str) -> str | None:
        """The role of a key this process has verified before and that is not revoked, or None.

        Never reads the key table but for the periodic revocation refresh, and never hashes
        with scrypt: an unknown key gets None here and the full check (`role_of`) elsewhere.
        """
        fingerprint = hashlib.sha256(key.encode()).hexdigest()
        self._refresh_revoked()
        with self._lock:
            known = self._verified.get(fingerprint)
            if known is None or known[0] in self._revoked:
                return None
            return known[1]

    def _refresh_revoked(self) -> None:
        now = time.monotonic()
        if now - self._revoked_read_s < REVOCATION_REFRESH_S:
            return
        query = sa.select(api_keys.c.key_id).where(api_keys.c.revoked_at_s.is_not(None))
        with self.store.engine.connect() as connection:
            revoked = {r.key_id for r in connection.execute(query)}
        with self._lock:
            self._revoked = revoked
            self._revoked_read_s = now
