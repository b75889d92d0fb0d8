"""Revision 0010: an account "verified" before it had confirmed only its e-mail address; after the upgrade it
keeps that, is not identity-verified, and the subject may have more accounts."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from xinyong import migrate
from xinyong.db import make_engine


def test_accounts_verified_before_keep_their_contact_but_must_prove_identity(fresh_database_url):
    migrate.command.downgrade(migrate.alembic_config(fresh_database_url), "0009")
    engine = make_engine(fresh_database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO subjects (id, kind, name, name_norm, uscc, created_at, updated_at) VALUES "
                              "(1, 'organisation', '甲公司', '甲公司', '91330523MA0000000X', :t, :t)"),
                         {"t": "2026-01-01 00:00:00+00:00"})  # fmt: skip
            conn.execute(text("INSERT INTO subject_accounts (id, subject_id, contact, password_hash, is_verified, "
                              "failed_logins, created_at, verified_at) VALUES (1, 1, 'a@example.cn', 'x', :yes, 0, :t, :t)"),
                         {"t": "2026-01-01 00:00:00+00:00", "yes": True})  # fmt: skip
        migrate.upgrade(fresh_database_url)
        with engine.begin() as conn:
            row = conn.execute(text("SELECT contact_confirmed, contact_confirmed_at, status, identity_verified_at, "
                                    "identity_method, identity_failures FROM subject_accounts")).one()  # fmt: skip
            assert bool(row.contact_confirmed)
            assert row.contact_confirmed_at is not None
            assert row.status == "active"
            assert row.identity_verified_at is None
            assert row.identity_method is None
            assert row.identity_failures == 0
            # A second claim on the same subject is now possible.
            conn.execute(text("INSERT INTO subject_accounts (id, subject_id, contact, password_hash, contact_confirmed, "
                              "failed_logins, created_at) VALUES (2, 1, 'b@example.cn', 'x', :no, 0, :t)"),
                         {"t": "2026-01-02 00:00:00+00:00", "no": False})  # fmt: skip
        # Never two proven owners of one subject.
        with engine.begin() as conn:
            conn.execute(text("UPDATE subject_accounts SET identity_verified_at = :t WHERE id = 1"),
                         {"t": "2026-01-03 00:00:00+00:00"})  # fmt: skip
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text("UPDATE subject_accounts SET identity_verified_at = :t WHERE contact = 'b@example.cn'"),
                         {"t": "2026-01-03 00:00:00+00:00"})  # fmt: skip
    finally:
        engine.dispose()
