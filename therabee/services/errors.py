"""What a service can refuse. The API turns these into problem+json; the UI into messages."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass
class ServiceError(Exception):
    detail: str
    status: int = 400
    title: str = "Bad request"
    errors: list[FieldError] = field(default_factory=list)
    conflicts: list[dict] = field(default_factory=list)

    def __str__(self) -> str:
        return self.detail


def invalid(field_name: str, message: str) -> ServiceError:
    """422 naming the field at fault."""
    return ServiceError(f"{field_name}: {message}", 422, "Invalid request",
                        [FieldError(field_name, message)])


def not_found(what: str = "resource") -> ServiceError:
    return ServiceError(f"No such {what}", 404, "Not found")


def forbidden(detail: str) -> ServiceError:
    return ServiceError(detail, 403, "Forbidden")


def unauthorized(detail: str = "A valid bearer token is required") -> ServiceError:
    return ServiceError(detail, 401, "Unauthorized")


def conflict(detail: str, conflicts: list[dict]) -> ServiceError:
    return ServiceError(detail, 409, "Conflict", conflicts=conflicts)
