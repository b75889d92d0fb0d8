from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from xinyong.auth.rules import Role
from xinyong.db import Base, UTCDateTime, utcnow
from xinyong.departments.models import Department
from xinyong.regions.models import Region  # noqa: F401 (the users table's foreign key names it)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))  # where warnings are e-mailed; none: inbox only
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=24, values_callable=lambda e: [m.value for m in e])
    )
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    # The region a platform-level account (信用办, auditor …) acts for: a county's 信用办 sees its county and the
    # regions under it. None: the whole platform. Department-bound accounts take their department's region.
    region_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # A copy of the account's sign-in delay (auth.throttle holds the state), for the user list.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    department: Mapped[Department | None] = relationship()


class UserSession(Base):
    """A console sign-in. The cookie holds a random token; only its SHA-256 is stored, so a copy of the
    database does not let anyone sign in. Ending a session is deleting its row's validity (ended_at)."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    client: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship()


class LoginThrottle(Base):
    """Sign-in throttling state of one client address, one account name, or one (client, account) pair, shared
    by every server process. `key` is a keyed hash of the scope and what it names (an address, a name as typed),
    so the table holds no typed names (which may be ID numbers or mistyped passwords)."""

    __tablename__ = "login_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(16))  # "client" | "pair" | "account"
    owner: Mapped[str | None] = mapped_column(String(48), index=True)  # "user:12" on pair and account rows
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refused: Mapped[int] = mapped_column(Integer, default=0)  # refused attempts not yet in the audit trail
    audited_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the delay whose refusal was audited
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
