"""API key secrets: generation, hashing and the prefix shown to people. No storage here."""

import hashlib
import secrets

KEY_SCHEME = "keel_"
PREFIX_LENGTH = 12


def generate_secret() -> str:
    return KEY_SCHEME + secrets.token_urlsafe(30)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def prefix_of(secret: str) -> str:
    return secret[:PREFIX_LENGTH]
