from __future__ import annotations


class ServiceError(Exception):
    """A refused write: the API answers ``{"error": {"code", "message"}}`` with ``status``,
    views show ``message`` on the form. Raised before anything is written (or inside the
    service's transaction, so nothing stays half-written)."""

    status = 400

    def __init__(self, code: str, message: str, *, status: int | None = None,
                 field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        if status is not None:
            self.status = status


class Conflict(ServiceError):
    status = 409


class PermissionDenied(ServiceError):
    status = 403

    def __init__(self, message: str = "You do not have permission to do that.") -> None:
        super().__init__("permission_denied", message)
