from datetime import UTC, datetime, timedelta

import pytest

from xinyong.auth.rules import (
    ROLE_PERMISSIONS,
    Actor,
    Permission,
    Role,
    login_delay,
    parse_permission,
    password_problems,
    username_problem,
)

NOW = datetime(2025, 10, 1, tzinfo=UTC)


def test_every_permission_follows_the_grammar():
    for permission in Permission:
        surface, resource, action = permission.value.split(":")
        assert surface in ("admin", "api")
        assert resource
        assert action


def test_roles_grant_what_the_table_says():
    assert ROLE_PERMISSIONS[Role.PLATFORM_ADMIN] >= {Permission.USERS_WRITE, Permission.AUDIT_READ}
    assert Permission.RECORDS_WRITE in ROLE_PERMISSIONS[Role.OPERATOR]
    assert Permission.SUBJECTS_REVEAL not in ROLE_PERMISSIONS[Role.OPERATOR]
    assert Permission.SUBJECTS_REVEAL in ROLE_PERMISSIONS[Role.REVIEWER]
    assert not any(p.value.endswith((":write", ":decide", ":reveal")) and p is not Permission.ACCOUNT_WRITE
                   for p in ROLE_PERMISSIONS[Role.AUDITOR])  # fmt: skip
    assert not any(p.is_api for perms in ROLE_PERMISSIONS.values() for p in perms)


def test_legacy_key_scopes_map_to_the_grammar():
    assert parse_permission("records:write") is Permission.API_RECORDS_WRITE
    assert parse_permission("api:records:read") is Permission.API_RECORDS_READ
    with pytest.raises(ValueError, match="not a valid"):
        parse_permission("records:delete")


def test_bound_actors_reach_only_their_department():
    actor = Actor(label="user:x", kind="user", department_id=1, is_department_bound=True)
    assert actor.can_reach(1)
    assert not actor.can_reach(2)
    assert not actor.can_reach(None)
    assert Actor.system().can_reach(2)


@pytest.mark.parametrize(("password", "ok"), [("short1", False), ("onlyletters", False), ("1234567890", False),
                                              ("Good-pass-42", True), ("xyuser-pass-42", False), ("aaaa1111aa", False)])
def test_password_policy(password, ok):
    assert (not password_problems(password, username="xyuser", min_length=10)) is ok


def test_sign_in_delays_start_at_the_limit_double_and_stop_at_the_cap():
    delay = {"free": 5, "first": timedelta(seconds=5), "cap": timedelta(minutes=1)}
    assert login_delay(4, **delay) == timedelta(0)
    assert login_delay(5, **delay) == timedelta(seconds=5)
    assert login_delay(6, **delay) == timedelta(seconds=10)
    assert login_delay(8, **delay) == timedelta(seconds=40)
    assert login_delay(9, **delay) == timedelta(minutes=1)
    assert login_delay(10_000, **delay) == timedelta(minutes=1)  # no overflow however long the storm
    assert login_delay(50, free=5, first=timedelta(seconds=5), cap=timedelta(0)) == timedelta(0)


def test_usernames():
    assert username_problem("op1") is None
    assert username_problem("ab") is not None
    assert username_problem("张三") is not None
    assert username_problem("-op") is not None
