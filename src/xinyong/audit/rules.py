"""The hash chain of the audit trail, as pure functions.

Two kinds of link. Entries written before the chain was keyed (`key_id` NULL) carry SHA-256(previous hash +
canonical entry): anyone with write access to the database could recompute them. Every later entry carries
HMAC-SHA256 under the audit key over the same text, the key's id included in the entry, so only a holder of
the key can produce a link; an unkeyed entry after a keyed one is itself a break.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64


class AuditAction(enum.StrEnum):
    LOGIN = "auth.login"
    LOGIN_FAILED = "auth.login-failed"
    LOGIN_THROTTLED = "auth.login-throttled"  # attempts refused while a sign-in delay runs
    ACCOUNT_LOCKED = "auth.locked"  # no longer written (delays replaced locks); kept for earlier entries
    LOGOUT = "auth.logout"
    PASSWORD_CHANGED = "auth.password-changed"  # noqa: S105 -- an action name
    USER_CREATED = "user.created"
    USER_UPDATED = "user.updated"
    USER_PASSWORD_RESET = "user.password-reset"  # noqa: S105 -- an action name
    DEPARTMENT_CREATED = "department.created"
    DEPARTMENT_UPDATED = "department.updated"
    DEPARTMENT_MOVED = "department.moved"
    REGION_CREATED = "region.created"
    REGION_UPDATED = "region.updated"
    REGION_SETTING_SAVED = "region.setting-saved"
    KEY_ISSUED = "api-key.issued"
    KEY_REVOKED = "api-key.revoked"
    BATCH_STARTED = "batch.started"
    BATCH_FINISHED = "batch.finished"
    RECORD_REVOKED = "record.revoked"
    SUBJECT_REVEALED = "subject.revealed"  # 查询留痕: restricted fields were shown
    AUDIT_EXPORTED = "audit.exported"
    EXCHANGE_EXPORTED = "exchange.exported"  # a national-format export to another platform (issue 20)
    WEBHOOK_SAVED = "exchange.webhook-saved"
    # credit lists, the measure list and credit checks (issue 5)
    LIST_TYPE_SAVED = "list-type.saved"
    LIST_PROPOSED = "list.proposed"
    LIST_NOTIFIED = "list.notified"
    LIST_OBJECTED = "list.objected"
    LIST_DECIDED = "list.decided"
    LIST_WITHDRAWN = "list.withdrawn"
    LIST_PUBLISHED = "list.published"
    LIST_EXPIRED = "list.expired"
    LIST_REMOVED = "list.removed"
    LIST_IMPORTED = "list.imported"
    MEASURE_SAVED = "measure.saved"
    MEASURE_RETIRED = "measure.retired"
    CHECK_FEEDBACK = "check.feedback"
    # credit repair, objections, subject accounts (issue 6)
    SUBJECT_ACCOUNT_CREATED = "subject-account.created"
    SUBJECT_ACCOUNT_VERIFIED = "subject-account.verified"
    SUBJECT_SIGNED_IN = "subject-account.signed-in"
    SUBJECT_ACTIVATION_ISSUED = "subject-account.activation-issued"
    SUBJECT_ACTIVATION_FAILED = "subject-account.activation-failed"
    SUBJECT_IDENTITY_VERIFIED = "subject-account.identity-verified"
    SUBJECT_IDENTITY_REFUSED = "subject-account.identity-refused"
    SUBJECT_IDENTITY_REVOKED = "subject-account.identity-revoked"
    SUBJECT_ACCOUNT_SUPERSEDED = "subject-account.superseded"
    SUBJECT_ACCOUNT_DISPUTED = "subject-account.disputed"
    SUBJECT_ACCOUNT_REVOKED = "subject-account.revoked"
    REPAIR_SUBMITTED = "repair.submitted"
    REPAIR_RETURNED = "repair.returned"
    REPAIR_RESUBMITTED = "repair.resubmitted"
    REPAIR_ACCEPTED = "repair.accepted"
    REPAIR_APPROVED = "repair.approved"
    REPAIR_REFUSED = "repair.refused"
    REPAIR_WITHDRAWN = "repair.withdrawn"
    REPAIR_COMMITMENT_BROKEN = "repair.commitment-broken"
    OBJECTION_FILED = "objection.filed"
    OBJECTION_DECIDED = "objection.decided"
    OBJECTION_WITHDRAWN = "objection.withdrawn"
    # separation of duties, deciding departments, backdating (issue 11)
    REPAIR_SAME_OFFICIAL_REFUSED = "repair.same-official-refused"
    LIST_TYPE_DECIDERS_SET = "list-type.deciders-set"
    BATCH_BACKDATED = "batch.backdated"
    # credit reports (issue 15)
    REPORT_ISSUED = "report.issued"
    # evaluation and graded supervision (issue 14)
    EVALUATION_MODEL_LOADED = "evaluation.model-loaded"
    EVALUATION_RUN = "evaluation.run"
    EVALUATION_RUN_FAILED = "evaluation.run-failed"
    INSPECTOR_SAVED = "inspector.saved"
    INSPECTOR_EXCLUDED = "inspector.excluded"
    INSPECTION_PLAN_CREATED = "inspection.plan-created"
    INSPECTION_DRAWN = "inspection.drawn"
    INSPECTION_REDRAW_REFUSED = "inspection.redraw-refused"
    INSPECTION_PUBLISHED = "inspection.published"
    INSPECTION_RESULT_RECORDED = "inspection.result-recorded"
    # monitoring, data quality, warnings, government integrity (issue 17)
    ALERT_RAISED = "alert.raised"
    ALERT_ACKNOWLEDGED = "alert.acknowledged"
    ALERT_RESOLVED = "alert.resolved"
    QUALITY_SCANNED = "quality.scanned"
    QUALITY_MERGED = "quality.merged"
    QUALITY_DISTINCT = "quality.marked-distinct"
    QUALITY_ASKED = "quality.asked-department"
    SUBJECTS_MERGED = "subject.merged"
    INTEGRITY_CASE_SAVED = "integrity.case-saved"
    INTEGRITY_CASE_CLEARED = "integrity.case-cleared"
    INTEGRITY_NOTICE_SAVED = "integrity.notice-saved"
    INTEGRITY_NOTICE_CLOSED = "integrity.notice-closed"
    CIVIL_SERVANT_RECORDED = "civil-servant.recorded"
    CIVIL_SERVANT_LOOKED_UP = "civil-servant.looked-up"  # 查询留痕: every look-up, with its reason
    # the department catalogue and the ways in (issue 19)
    DEPARTMENT_DUTY_SET = "department-catalogue.set"
    DEPARTMENT_DUTY_REMOVED = "department-catalogue.removed"
    SOURCE_PULLED = "intake.pulled"
    COMMITMENT_MADE = "commitment.made"  # a subject's online commitment
    COMMITMENT_FULFILMENT = "commitment.fulfilment"  # 履行状态认定 by the accepting department
    COMMITMENT_NOT_RECORDED = "commitment.not-recorded"  # a repair commitment's record refused by the pipeline
    COMMITMENT_VERIFIED = "commitment.verified"  # 告知承诺核查 (属实 / 承诺不实)
    INSTITUTION_REGISTERED = "finance.institution-registered"
    INSTITUTION_KEY_ISSUED = "finance.key-issued"
    INSTITUTION_OFFICER_ADDED = "finance.officer-added"
    CONSENT_GRANTED = "finance.consent-granted"
    CONSENT_REVOKED = "finance.consent-revoked"
    CONSENT_READ = "finance.consent-read"  # every read of a subject's data under its consent
    CONSENT_READ_REFUSED = "finance.consent-read-refused"
    DEMAND_POSTED = "finance.demand-posted"
    DEMAND_TAKEN = "finance.demand-taken"
    DEMAND_ANSWERED = "finance.demand-answered"
    WHITELIST_PUBLISHED = "finance.whitelist-published"
    SCENARIO_SAVED = "scenario.saved"
    SCENARIO_CHECKED = "scenario.checked"
    POINTS_OPTED_IN = "points.opted-in"
    POINTS_OPTED_OUT = "points.opted-out"

    @property
    def label(self) -> str:
        return ACTION_LABELS.get(self, self.value)


ACTION_LABELS = {
    AuditAction.LOGIN: "登录",
    AuditAction.LOGIN_FAILED: "登录失败",
    AuditAction.LOGIN_THROTTLED: "登录尝试受限（过于频繁）",
    AuditAction.ACCOUNT_LOCKED: "账户临时锁定",
    AuditAction.LOGOUT: "退出登录",
    AuditAction.PASSWORD_CHANGED: "修改密码",
    AuditAction.USER_CREATED: "创建账户",
    AuditAction.USER_UPDATED: "修改账户",
    AuditAction.USER_PASSWORD_RESET: "重置密码",
    AuditAction.DEPARTMENT_CREATED: "登记部门",
    AuditAction.DEPARTMENT_UPDATED: "修改部门",
    AuditAction.DEPARTMENT_MOVED: "部门变更所属行政区划",
    AuditAction.REGION_CREATED: "登记行政区划",
    AuditAction.REGION_UPDATED: "修改行政区划",
    AuditAction.REGION_SETTING_SAVED: "设置区划基础数据",
    AuditAction.KEY_ISSUED: "签发访问密钥",
    AuditAction.KEY_REVOKED: "吊销访问密钥",
    AuditAction.BATCH_STARTED: "开始导入批次",
    AuditAction.BATCH_FINISHED: "导入批次结束",
    AuditAction.DEPARTMENT_DUTY_SET: "设置部门目录清单",
    AuditAction.DEPARTMENT_DUTY_REMOVED: "移出部门目录清单",
    AuditAction.SOURCE_PULLED: "库对接拉取",
    AuditAction.RECORD_REVOKED: "撤销记录",
    AuditAction.SUBJECT_REVEALED: "查看受限信息",
    AuditAction.AUDIT_EXPORTED: "导出审计日志",
    AuditAction.EXCHANGE_EXPORTED: "向上级平台导出数据",
    AuditAction.WEBHOOK_SAVED: "登记变更推送地址",
    AuditAction.LIST_TYPE_SAVED: "保存名单类型",
    AuditAction.LIST_PROPOSED: "提出名单列入建议",
    AuditAction.LIST_NOTIFIED: "告知拟列入名单",
    AuditAction.LIST_OBJECTED: "登记名单异议",
    AuditAction.LIST_DECIDED: "决定列入名单",
    AuditAction.LIST_WITHDRAWN: "决定不予列入名单",
    AuditAction.LIST_PUBLISHED: "公示名单",
    AuditAction.LIST_EXPIRED: "名单期满移出",
    AuditAction.LIST_REMOVED: "名单提前移出",
    AuditAction.LIST_IMPORTED: "导入外部名单",
    AuditAction.MEASURE_SAVED: "保存措施清单条目",
    AuditAction.MEASURE_RETIRED: "停用措施清单条目",
    AuditAction.CHECK_FEEDBACK: "登记奖惩结果反馈",
    AuditAction.SUBJECT_ACCOUNT_CREATED: "信用主体注册账户",
    AuditAction.SUBJECT_ACCOUNT_VERIFIED: "信用主体账户确认联系邮箱",
    AuditAction.SUBJECT_SIGNED_IN: "信用主体登录",
    AuditAction.SUBJECT_ACTIVATION_ISSUED: "签发信用主体激活码",
    AuditAction.SUBJECT_ACTIVATION_FAILED: "激活码错误次数过多，暂停核验",
    AuditAction.SUBJECT_IDENTITY_VERIFIED: "信用主体身份核验通过",
    AuditAction.SUBJECT_IDENTITY_REFUSED: "信用主体身份核验未通过",
    AuditAction.SUBJECT_IDENTITY_REVOKED: "撤销信用主体身份核验",
    AuditAction.SUBJECT_ACCOUNT_SUPERSEDED: "信用主体账户因他人核验身份而停用",
    AuditAction.SUBJECT_ACCOUNT_DISPUTED: "已核验账户申诉停用他人申领",
    AuditAction.SUBJECT_ACCOUNT_REVOKED: "注销信用主体账户",
    AuditAction.REPAIR_SUBMITTED: "提交信用修复申请",
    AuditAction.REPAIR_RETURNED: "退回信用修复申请补正",
    AuditAction.REPAIR_RESUBMITTED: "补正后重新提交信用修复申请",
    AuditAction.REPAIR_ACCEPTED: "受理信用修复申请",
    AuditAction.REPAIR_APPROVED: "同意信用修复（停止公示）",
    AuditAction.REPAIR_REFUSED: "不予信用修复",
    AuditAction.REPAIR_WITHDRAWN: "撤回信用修复申请",
    AuditAction.REPAIR_COMMITMENT_BROKEN: "违反修复承诺，恢复公示",
    AuditAction.OBJECTION_FILED: "提出异议",
    AuditAction.OBJECTION_DECIDED: "异议处理办结",
    AuditAction.OBJECTION_WITHDRAWN: "撤回异议",
    AuditAction.REPAIR_SAME_OFFICIAL_REFUSED: "拒绝同一人办理信用修复的两个环节",
    AuditAction.LIST_TYPE_DECIDERS_SET: "设置名单认定部门",
    AuditAction.BATCH_BACKDATED: "补录历史数据（指定报送日期）",
    AuditAction.REPORT_ISSUED: "出具信用报告",
    AuditAction.EVALUATION_MODEL_LOADED: "载入评价模型",
    AuditAction.EVALUATION_RUN: "完成信用综合评价",
    AuditAction.EVALUATION_RUN_FAILED: "信用综合评价失败",
    AuditAction.INSPECTOR_SAVED: "登记执法检查人员",
    AuditAction.INSPECTOR_EXCLUDED: "登记检查人员回避",
    AuditAction.INSPECTION_PLAN_CREATED: "制定随机抽查计划",
    AuditAction.INSPECTION_DRAWN: "随机抽取检查对象和检查人员",
    AuditAction.INSPECTION_REDRAW_REFUSED: "拒绝以其他种子重新抽取",
    AuditAction.INSPECTION_PUBLISHED: "公示抽查计划与抽取结果",
    AuditAction.INSPECTION_RESULT_RECORDED: "录入抽查检查结果",
    AuditAction.ALERT_RAISED: "发出预警",
    AuditAction.ALERT_ACKNOWLEDGED: "确认预警",
    AuditAction.ALERT_RESOLVED: "预警解除",
    AuditAction.QUALITY_SCANNED: "重错码检查",
    AuditAction.QUALITY_MERGED: "重错码处理：合并主体",
    AuditAction.QUALITY_DISTINCT: "重错码处理：确认不是重错码",
    AuditAction.QUALITY_ASKED: "重错码处理：请部门更正",
    AuditAction.SUBJECTS_MERGED: "合并信用主体",
    AuditAction.INTEGRITY_CASE_SAVED: "登记政务失信记录",
    AuditAction.INTEGRITY_CASE_CLEARED: "政务失信记录清零",
    AuditAction.INTEGRITY_NOTICE_SAVED: "登记法院拟纳入失信名单告知",
    AuditAction.INTEGRITY_NOTICE_CLOSED: "办结法院拟纳入失信名单告知",
    AuditAction.CIVIL_SERVANT_RECORDED: "登记公务员诚信档案",
    AuditAction.CIVIL_SERVANT_LOOKED_UP: "查询公务员诚信档案",
    AuditAction.COMMITMENT_MADE: "在线作出信用承诺",
    AuditAction.COMMITMENT_FULFILMENT: "认定信用承诺履行状态",
    AuditAction.COMMITMENT_NOT_RECORDED: "信用修复承诺未能记入信用承诺记录",
    AuditAction.COMMITMENT_VERIFIED: "告知承诺核查",
    AuditAction.INSTITUTION_REGISTERED: "登记金融机构",
    AuditAction.INSTITUTION_KEY_ISSUED: "签发金融机构访问密钥",
    AuditAction.INSTITUTION_OFFICER_ADDED: "开设金融机构信贷员账户",
    AuditAction.CONSENT_GRANTED: "信用主体授权金融机构查询",
    AuditAction.CONSENT_REVOKED: "信用主体撤回授权",
    AuditAction.CONSENT_READ: "金融机构按授权查询信用信息",
    AuditAction.CONSENT_READ_REFUSED: "金融机构查询被拒绝（无有效授权或超出范围）",
    AuditAction.DEMAND_POSTED: "发布融资需求",
    AuditAction.DEMAND_TAKEN: "金融机构受理融资需求",
    AuditAction.DEMAND_ANSWERED: "金融机构反馈融资结果",
    AuditAction.WHITELIST_PUBLISHED: "发布信易贷白名单",
    AuditAction.SCENARIO_SAVED: "保存信易+场景",
    AuditAction.SCENARIO_CHECKED: "信易+场景资格核验",
    AuditAction.POINTS_OPTED_IN: "开通个人信用积分",
    AuditAction.POINTS_OPTED_OUT: "关闭个人信用积分（删除积分记录）",
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
    key_id: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
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
    if key_id is not None:
        body["key_id"] = key_id  # bound into the link: an entry cannot be moved to another key
    return body


def chain_hash(prev_hash: str, body: dict[str, Any]) -> str:
    """The unkeyed link of entries written before the chain was keyed."""
    return hashlib.sha256((prev_hash + canonical_json(body)).encode()).hexdigest()


def keyed_hash(key: bytes, prev_hash: str, body: dict[str, Any]) -> str:
    return hmac.new(key, (prev_hash + canonical_json(body)).encode(), hashlib.sha256).hexdigest()


def key_fingerprint(key: bytes) -> str:
    """A key's public name: says which key signed an entry without revealing anything about it."""
    return hmac.new(key, b"xinyong:audit-key-id", hashlib.sha256).hexdigest()[:16]


def same_digest(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


# ------------------------------------------------------------------------------------------ checkpoints

CHECKPOINT_FIELDS = ("seq", "entry_id", "hash", "count", "published_at", "key_id")


def checkpoint_mac(key: bytes, fields: dict[str, Any]) -> str:
    """The signature of a published checkpoint: HMAC over its fields (the signature itself excluded)."""
    signed = {name: fields.get(name) for name in CHECKPOINT_FIELDS}
    return hmac.new(key, ("checkpoint:" + canonical_json(signed)).encode(), hashlib.sha256).hexdigest()
