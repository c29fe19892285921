"""Passwords of the secured services' users: generated once, kept under ``.local`` readable by us alone.

One JSON file per service is where tests and tools read them; beside it, one file per user holds just
the password, for settings read from a file (``<VAR>_FILE``) so that no password is ever printed.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    path.chmod(0o600)


def credentials_file(directory: Path) -> Path:
    return directory / "credentials.json"


def password_file(directory: Path, user: str) -> Path:
    return directory / "passwords" / user


def load_or_create(directory: Path, users: list[str]) -> tuple[dict[str, str], bool]:
    """The users' passwords, and whether they were made just now (a service must then forget the old ones)."""
    path = credentials_file(directory)
    try:
        known: dict[str, str] = json.loads(path.read_text())
    except (OSError, ValueError):
        known = {}
    created = not all(known.get(user) for user in users)
    if created:
        known = {user: secrets.token_urlsafe(18) for user in users}
        _write_private(path, json.dumps(known, indent=2) + "\n")
    for user in users:
        target = password_file(directory, user)
        if created or not target.exists():
            _write_private(target, known[user])
    return {user: known[user] for user in users}, created


def write_private(path: Path, text: str) -> None:
    """A file only we may read: configurations that hold a password or a password hash."""
    _write_private(path, text)
