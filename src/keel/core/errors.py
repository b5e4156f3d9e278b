"""Domain errors carry their own HTTP status and a stable code.

Services raise these; the server turns them into problem+json on `/api` and OpenAI-style error objects on
`/v1`, so no feature formats an error response by hand and no error escapes as a bare 500.
"""

from typing import Any, ClassVar


class KeelError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(KeelError):
    status = 422
    code = "invalid_input"
    title = "Invalid input"


class Unauthorized(KeelError):
    status = 401
    code = "unauthorized"
    title = "Unauthorized"


class Forbidden(KeelError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class NotFound(KeelError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(KeelError):
    status = 409
    code = "conflict"
    title = "Conflict"


class PayloadTooLarge(KeelError):
    status = 413
    code = "payload_too_large"
    title = "Payload too large"


class Unavailable(KeelError):
    status = 503
    code = "unavailable"
    title = "Service unavailable"


class ConfigError(Exception):
    """Raised at startup for settings or environments Keel cannot run with; the CLI prints it and exits 2."""
