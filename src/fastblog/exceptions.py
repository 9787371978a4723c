"""The errors services raise. They say what went wrong, and which field when a field did;
they know nothing of HTTP. fastblog.errors answers each kind with its status code (JSON
under /api, an HTML page elsewhere); a form that can show the message beside its field
catches the error first."""


class DomainError(Exception):
    status_code = 400
    # Sent with the answer (Retry-After on a 429, say), JSON or page alike.
    headers: dict[str, str] | None = None

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFoundError(DomainError):
    status_code = 404


class NotAuthenticatedError(DomainError):
    """The account the request acts for is gone (deleted, or its token revoked)."""

    status_code = 401


class ForbiddenError(DomainError):
    status_code = 403


class ConflictError(DomainError):
    """The value is taken (answered 400, as the API always has)."""


class StateConflictError(DomainError):
    """The request is valid, but what it would change forbids it as things stand (the owner
    deleting their own account before handing ownership on)."""

    status_code = 409


class InvalidInputError(DomainError):
    status_code = 422


class TooLargeError(DomainError):
    status_code = 413
