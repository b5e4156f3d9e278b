"""The SDK's one error type, in its own module so the client's parts can raise it without import cycles."""


class KeelAPIError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
