"""Browser sessions made from an API key: the key, encrypted with the server's secret, in an HttpOnly cookie.

Every request decrypts it and authenticates the key as the API would, so a revoked or expired key ends the
session at once, and the page sees exactly the key's project and role. Forms carry a CSRF token derived
from the cookie (which scripts on other sites can neither read nor send: SameSite=Strict).
"""

import hashlib
import hmac
import json
import time

from keel.core.errors import KeelError
from keel.core.secrets import SecretBox

COOKIE = "keel_session"
LIFETIME_S = 12 * 3600


def issue(box: SecretBox, api_key: str, now: float | None = None) -> str:
    return box.encrypt(json.dumps({"key": api_key, "exp": int((now or time.time()) + LIFETIME_S)}))


def read(box: SecretBox, cookie: str | None) -> str | None:
    """The session's API key, or None when there is no valid, unexpired session."""
    if not cookie:
        return None
    try:
        data = json.loads(box.decrypt(cookie))
    except (KeelError, ValueError):
        return None
    if not isinstance(data, dict) or int(data.get("exp", 0)) < time.time():
        return None
    key = data.get("key")
    return key if isinstance(key, str) else None


def csrf_token(cookie: str) -> str:
    return hashlib.sha256(b"keel-csrf:" + cookie.encode()).hexdigest()[:32]


def csrf_ok(cookie: str | None, token: str | None) -> bool:
    return bool(cookie and token) and hmac.compare_digest(csrf_token(cookie or ""), token or "")
