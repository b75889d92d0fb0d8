"""The hash chain of the audit trail, as pure functions."""

from __future__ import annotations

import enum
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64


class AuditAction(enum.StrEnum):
    LOGIN = "auth.login"
    LOGIN_FAILED = "auth.login-failed"
    ACCOUNT_LOCKED = "auth.locked"
    LOGOUT = "auth.logout"
    PASSWORD_CHANGED = "auth.password-changed"  # noqa: S105 -- an action name
    USER_CREATED = "user.created"
    USER_UPDATED = "user.updated"
    USER_PASSWORD_RESET = "user.password-reset"  # noqa: S105 -- an action name
    DEPARTMENT_CREATED = "department.created"
    DEPARTMENT_UPDATED = "department.updated"
    KEY_ISSUED = "api-key.issued"
    KEY_REVOKED = "api-key.revoked"
    BATCH_STARTED = "batch.started"
    BATCH_FINISHED = "batch.finished"
    RECORD_REVOKED = "record.revoked"
    SUBJECT_REVEALED = "subject.revealed"  # 查询留痕: restricted fields were shown
    AUDIT_EXPORTED = "audit.exported"

    @property
    def label(self) -> str:
        return ACTION_LABELS.get(self, self.value)


ACTION_LABELS = {
    AuditAction.LOGIN: "登录",
    AuditAction.LOGIN_FAILED: "登录失败",
    AuditAction.ACCOUNT_LOCKED: "账户临时锁定",
    AuditAction.LOGOUT: "退出登录",
    AuditAction.PASSWORD_CHANGED: "修改密码",
    AuditAction.USER_CREATED: "创建账户",
    AuditAction.USER_UPDATED: "修改账户",
    AuditAction.USER_PASSWORD_RESET: "重置密码",
    AuditAction.DEPARTMENT_CREATED: "登记部门",
    AuditAction.DEPARTMENT_UPDATED: "修改部门",
    AuditAction.KEY_ISSUED: "签发访问密钥",
    AuditAction.KEY_REVOKED: "吊销访问密钥",
    AuditAction.BATCH_STARTED: "开始导入批次",
    AuditAction.BATCH_FINISHED: "导入批次结束",
    AuditAction.RECORD_REVOKED: "撤销记录",
    AuditAction.SUBJECT_REVEALED: "查看受限信息",
    AuditAction.AUDIT_EXPORTED: "导出审计日志",
}


def timestamp_text(value: datetime) -> str:
    """UTC, microseconds, fixed width: what both databases give back for what was stored."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def entry_body(
    *,
    seq: int,
    created_at: datetime,
    action: str,
    actor: str,
    actor_department_id: int | None,
    department_id: int | None,
    subject_id: int | None,
    target: str | None,
    reason: str | None,
    details: dict[str, Any],
) -> dict[str, Any]:
    return {
        "seq": seq,
        "created_at": timestamp_text(created_at),
        "action": action,
        "actor": actor,
        "actor_department_id": actor_department_id,
        "department_id": department_id,
        "subject_id": subject_id,
        "target": target,
        "reason": reason,
        "details": details,
    }


def chain_hash(prev_hash: str, body: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(body)).encode()).hexdigest()
