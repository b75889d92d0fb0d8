"""incentives: 信易贷 (institutions, keys, consents and their accesses, demands, whitelist feeds), 信易+ scenarios
and their uses, opt-in personal credit points

Revision ID: 0017_incentives
Revises: 0016_exchange
Create Date: 2026-12-05
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

import xinyong.db

JSON = sa.JSON().with_variant(JSONB(), "postgresql")

revision: str = '0017_incentives'
down_revision: str | Sequence[str] | None = '0016_exchange'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('finance_institutions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('purposes', JSON, nullable=False),
    sa.Column('min_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('max_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', xinyong.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_institutions')),
    sa.UniqueConstraint('code', name=op.f('uq_finance_institutions_code'))
    )
    op.create_table('finance_whitelist_feeds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('rule', JSON, nullable=False),
    sa.Column('entries', JSON, nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', xinyong.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_whitelist_feeds')),
    sa.UniqueConstraint('version', name='uq_finance_whitelist_version')
    )
    op.create_table('scenarios',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('provider', sa.String(length=200), nullable=False),
    sa.Column('provider_kind', sa.String(length=20), nullable=False),
    sa.Column('benefit', sa.String(length=500), nullable=False),
    sa.Column('grades', JSON, nullable=False),
    sa.Column('list_types', JSON, nullable=False),
    sa.Column('points_bands', JSON, nullable=False),
    sa.Column('basis', sa.Text(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', xinyong.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scenarios')),
    sa.UniqueConstraint('key', name=op.f('uq_scenarios_key'))
    )
    op.create_table('finance_demands',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('subject_name', sa.String(length=200), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('term_months', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('collateral', sa.String(length=200), nullable=False),
    sa.Column('posted_on', sa.Date(), nullable=False),
    sa.Column('respond_by', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('open', 'taken', 'credited', 'loaned', 'refused', 'withdrawn', name='demandstatus', native_enum=False, length=16), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=True),
    sa.Column('taken_on', sa.Date(), nullable=True),
    sa.Column('credit_amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('loan_amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('loan_date', sa.Date(), nullable=True),
    sa.Column('refusal_reason', sa.Text(), nullable=True),
    sa.Column('answered_on', sa.Date(), nullable=True),
    sa.Column('created_at', xinyong.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['finance_institutions.id'], name=op.f('fk_finance_demands_institution_id_finance_institutions')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_finance_demands_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_demands'))
    )
    with op.batch_alter_table('finance_demands', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finance_demands_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_finance_demands_subject_id'), ['subject_id'], unique=False)

    op.create_table('finance_institution_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('created_at', xinyong.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', xinyong.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['institution_id'], ['finance_institutions.id'], name=op.f('fk_finance_institution_keys_institution_id_finance_institutions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_institution_keys')),
    sa.UniqueConstraint('prefix', name=op.f('uq_finance_institution_keys_prefix'))
    )
    with op.batch_alter_table('finance_institution_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finance_institution_keys_institution_id'), ['institution_id'], unique=False)

    op.create_table('scenario_uses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scenario_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('eligible', sa.Boolean(), nullable=False),
    sa.Column('asked_by', sa.String(length=100), nullable=False),
    sa.Column('used_at', xinyong.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['scenario_id'], ['scenarios.id'], name=op.f('fk_scenario_uses_scenario_id_scenarios')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_scenario_uses_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scenario_uses'))
    )
    with op.batch_alter_table('scenario_uses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scenario_uses_scenario_id'), ['scenario_id'], unique=False)

    op.create_table('finance_institution_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('created_at', xinyong.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['finance_institutions.id'], name=op.f('fk_finance_institution_users_institution_id_finance_institutions')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_finance_institution_users_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_institution_users')),
    sa.UniqueConstraint('user_id', name=op.f('uq_finance_institution_users_user_id'))
    )
    with op.batch_alter_table('finance_institution_users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finance_institution_users_institution_id'), ['institution_id'], unique=False)

    op.create_table('finance_consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('institution_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('scope', JSON, nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('created_at', xinyong.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', xinyong.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['subject_accounts.id'], name=op.f('fk_finance_consents_account_id_subject_accounts')),
    sa.ForeignKeyConstraint(['institution_id'], ['finance_institutions.id'], name=op.f('fk_finance_consents_institution_id_finance_institutions')),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_finance_consents_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_consents'))
    )
    with op.batch_alter_table('finance_consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finance_consents_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_finance_consents_subject_id'), ['subject_id'], unique=False)

    op.create_table('points_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('opted_in_at', xinyong.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['subject_accounts.id'], name=op.f('fk_points_members_account_id_subject_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subject_id'], ['subjects.id'], name=op.f('fk_points_members_subject_id_subjects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_members')),
    sa.UniqueConstraint('account_id', name=op.f('uq_points_members_account_id')),
    sa.UniqueConstraint('subject_id', name=op.f('uq_points_members_subject_id'))
    )
    op.create_table('finance_consent_accesses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('consent_id', sa.Integer(), nullable=False),
    sa.Column('key_prefix', sa.String(length=16), nullable=False),
    sa.Column('scope', JSON, nullable=False),
    sa.Column('accessed_at', xinyong.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['consent_id'], ['finance_consents.id'], name=op.f('fk_finance_consent_accesses_consent_id_finance_consents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_finance_consent_accesses'))
    )
    with op.batch_alter_table('finance_consent_accesses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finance_consent_accesses_consent_id'), ['consent_id'], unique=False)

    op.create_table('points_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('computed_on', sa.Date(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('band', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['points_members.id'], name=op.f('fk_points_history_member_id_points_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_history')),
    sa.UniqueConstraint('member_id', 'computed_on', name='uq_points_history_day')
    )
    with op.batch_alter_table('points_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_points_history_member_id'), ['member_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('points_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_points_history_member_id'))

    op.drop_table('points_history')
    with op.batch_alter_table('finance_consent_accesses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finance_consent_accesses_consent_id'))

    op.drop_table('finance_consent_accesses')
    op.drop_table('points_members')
    with op.batch_alter_table('finance_consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finance_consents_subject_id'))
        batch_op.drop_index(batch_op.f('ix_finance_consents_institution_id'))

    op.drop_table('finance_consents')
    with op.batch_alter_table('scenario_uses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scenario_uses_scenario_id'))

    op.drop_table('scenario_uses')
    with op.batch_alter_table('finance_institution_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finance_institution_keys_institution_id'))

    op.drop_table('finance_institution_keys')
    with op.batch_alter_table('finance_institution_users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finance_institution_users_institution_id'))

    op.drop_table('finance_institution_users')
    with op.batch_alter_table('finance_demands', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_finance_demands_subject_id'))
        batch_op.drop_index(batch_op.f('ix_finance_demands_institution_id'))

    op.drop_table('finance_demands')
    op.drop_table('scenarios')
    op.drop_table('finance_whitelist_feeds')
    op.drop_table('finance_institutions')
