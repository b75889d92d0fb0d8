"""One error hierarchy for the domain: each error carries a stable code, an HTTP status and a Chinese message."""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    code: ClassVar[str] = "domain-error"
    status_code: ClassVar[int] = 400
    message_template: ClassVar[str] = "操作未能完成"
    # Whether what the failing transaction wrote is kept (committed) although the request fails: set by
    # errors that are themselves a fact to record, such as a wrong password counted towards a lockout.
    keeps_changes: ClassVar[bool] = False

    def __init__(self, message: str | None = None, **details: object) -> None:
        self.details = details
        self.message = message or self.message_template.format(**details)
        super().__init__(self.message)

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message}


class NotFound(DomainError):
    code = "not-found"
    status_code = 404
    message_template = "未找到{what}"


class AlreadyExists(DomainError):
    code = "already-exists"
    status_code = 409
    message_template = "{what}已存在"


class InvalidInput(DomainError):
    code = "invalid-input"
    status_code = 422
    message_template = "输入有误：{reason}"


class PermissionDenied(DomainError):
    code = "permission-denied"
    status_code = 403
    message_template = "无权执行此操作"


class NotAuthenticated(DomainError):
    code = "not-authenticated"
    status_code = 401
    message_template = "请提供有效的访问凭证"


class InvalidTransition(DomainError):
    code = "invalid-transition"
    status_code = 409
    message_template = "当前状态“{state}”下不能执行“{action}”"


class FileRejected(DomainError):
    """The whole file cannot be read: wrong type, wrong encoding, too large, missing columns."""

    code = "file-rejected"
    status_code = 422
    message_template = "文件无法导入：{reason}"

    def __init__(self, problem_code: str, reason: str, **details: object) -> None:
        super().__init__(None, reason=reason, **details)
        self.problem_code = problem_code
        self.reason = reason

    def to_dict(self) -> dict[str, object]:
        return {"code": self.problem_code, "message": self.message}
