"""API keys: generated once, stored only as a SHA-256 hash, one account, a role and scopes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import psycopg

ROLES = ("viewer", "admin")
SCOPES = ("read", "ingest")
PREFIX = "wfa_"


@dataclass(frozen=True)
class Principal:
    key_id: str
    account_id: str
    role: str
    scopes: tuple[str, ...]


def hash_key(key: str) -> str:
    # Keys are 256 random bits, so a fast unsalted hash is enough: nothing to brute-force.
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(url: str, account_id: str, role: str, scopes: list[str]) -> tuple[str, str]:
    """Store a new key; return (key_id, the key). The key is shown once and never stored."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    unknown = set(scopes) - set(SCOPES)
    if unknown or not scopes:
        raise ValueError(f"scopes must be among {', '.join(SCOPES)}")
    key_id = secrets.token_hex(6)
    key = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    with psycopg.connect(url) as conn:
        conn.execute("insert into platform.api_keys (key_id, key_hash, account_id, role, scopes)"
                     " values (%s, %s, %s, %s, %s)",
                     (key_id, hash_key(key), account_id, role, sorted(set(scopes))))
    return key_id, key


def revoke_key(url: str, key_or_id: str) -> bool:
    """Revoke by key id or by the key itself; False when no live key matches."""
    key_id = key_or_id.split("_")[1] if key_or_id.startswith(PREFIX) else key_or_id
    with psycopg.connect(url) as conn:
        return conn.execute("update platform.api_keys set revoked_at = now()"
                            " where key_id = %s and revoked_at is null", (key_id,)).rowcount == 1
