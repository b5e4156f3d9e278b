"""Encryption at rest for provider credentials (Fernet: AES-128-CBC + HMAC-SHA256, from `cryptography`).

The key comes from `KEEL_SECRET_KEY`, or is generated once into `<data_dir>/secret.key` (mode 0600). Replicas
sharing a PostgreSQL store must share the key, so set `KEEL_SECRET_KEY` there. Losing the key makes stored
credentials unreadable (they must be entered again); nothing else depends on it.
"""

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from keel.core.errors import ConfigError, Unavailable


class SecretBox:
    def __init__(self, key: str) -> None:
        try:
            self._fernet = Fernet(key.encode())
        except (ValueError, TypeError):
            raise ConfigError(
                "KEEL_SECRET_KEY must be 32 url-safe base64-encoded bytes (make one: `keel keys secret-key`)"
            ) from None

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise Unavailable(
                "a stored credential cannot be decrypted with this KEEL_SECRET_KEY; enter it again"
            ) from None


def new_key() -> str:
    return Fernet.generate_key().decode()


def load_box(configured: str | None, path: Path) -> SecretBox:
    if configured:
        return SecretBox(configured)
    if path.exists():
        return SecretBox(path.read_text().strip())
    key = new_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return SecretBox(key)
