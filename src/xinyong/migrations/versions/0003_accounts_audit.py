"""accounts, console sessions, the audit trail; API-key scopes renamed to the permission grammar

Revision ID: 0003
Revises: 0002
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xinyong.db

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64
RENAMED_SCOPES = {"records:write": "api:records:write", "records:read": "api:records:read"}


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=40), nullable=False),
        sa.Column("display_name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.Enum("platform_admin", "operator", "reviewer", "auditor", name="role",
                                  native_enum=False, length=24), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", xinyong.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", xinyong.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("password_changed_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"], name=op.f("fk_users_department_id_departments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_department_id"), ["department_id"], unique=False)

    op.create_table(
        "user_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", xinyong.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("client", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_sessions_token_hash")),
    )
    with op.batch_alter_table("user_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_sessions_user_id"), ["user_id"], unique=False)

    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("created_at", xinyong.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("actor_department_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("subject_id", sa.Integer(), nullable=True),
        sa.Column("target", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("details", xinyong.db.JSONType, nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["actor_department_id"], ["departments.id"],
                                name=op.f("fk_audit_entries_actor_department_id_departments")),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"],
                                name=op.f("fk_audit_entries_department_id_departments")),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_audit_entries_subject_id_subjects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
        sa.UniqueConstraint("seq", name=op.f("uq_audit_entries_seq")),
    )
    with op.batch_alter_table("audit_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_entries_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_entries_action"), ["action"], unique=False)
        batch_op.create_index("ix_audit_entries_actor_created", ["actor", "created_at"], unique=False)
        batch_op.create_index("ix_audit_entries_department_created", ["department_id", "created_at"], unique=False)
        batch_op.create_index("ix_audit_entries_subject_id", ["subject_id"], unique=False)

    head = op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.bulk_insert(head, [{"id": 1, "last_seq": 0, "last_hash": GENESIS}])

    # Append-only inside the database as well: the platform never updates or deletes an entry. Someone
    # with the owner's rights can still drop the trigger; the hash chain is what exposes that.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'audit_entries is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries "
            "FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_entries_no_{event.lower()} BEFORE {event} ON audit_entries "
                "BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END"
            )

    # API-key scopes take their names from the permission grammar.
    bind = op.get_bind()
    keys = sa.table("api_keys", sa.column("id", sa.Integer()), sa.column("scopes", sa.JSON()))
    for key_id, scopes in bind.execute(sa.select(keys.c.id, keys.c.scopes)).all():
        if isinstance(scopes, str):
            scopes = json.loads(scopes)
        renamed = [RENAMED_SCOPES.get(s, s) for s in scopes or []]
        if renamed != scopes:
            bind.execute(keys.update().where(keys.c.id == key_id).values(scopes=renamed))


def downgrade() -> None:
    bind = op.get_bind()
    keys = sa.table("api_keys", sa.column("id", sa.Integer()), sa.column("scopes", sa.JSON()))
    back = {new: old for old, new in RENAMED_SCOPES.items()}
    for key_id, scopes in bind.execute(sa.select(keys.c.id, keys.c.scopes)).all():
        if isinstance(scopes, str):
            scopes = json.loads(scopes)
        bind.execute(keys.update().where(keys.c.id == key_id).values(scopes=[back.get(s, s) for s in scopes or []]))
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries")
        op.execute("DROP FUNCTION IF EXISTS audit_entries_append_only()")
    op.drop_table("audit_chain_head")
    op.drop_table("audit_entries")
    op.drop_table("user_sessions")
    op.drop_table("users")
