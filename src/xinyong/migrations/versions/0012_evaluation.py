"""public credit evaluation (models, runs, scores, points, grade changes) and random inspections (inspectors,
exclusions, plans with their sector matches, draws, assignments)

Revision ID: 0012_evaluation
Revises: 0011_reports

Only new tables: nothing existing changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import xinyong.db

revision: str = "0012_evaluation"
down_revision: str | Sequence[str] | None = "0011_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("inspection_assignments", "inspector_exclusions", "inspection_plan_inspectors", "inspection_plan_sectors",
          "inspection_draws",
          "evaluation_scores", "evaluation_points", "evaluation_changes", "inspectors", "inspection_plans",
          "evaluation_runs", "evaluation_models")  # fmt: skip


def _json() -> sa.types.TypeEngine:  # type: ignore[type-arg]
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _at(name: str, *, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, xinyong.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "evaluation_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("loaded_by", sa.String(length=100), nullable=False),
        _at("loaded_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_models")),
        sa.UniqueConstraint("key", "version", name=op.f("uq_evaluation_models_key_version")),
    )
    op.create_table(
        "evaluation_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("previous_run_id", sa.Integer(), nullable=True),
        sa.Column("subjects", sa.Integer(), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.Column("grade_counts", _json(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=True),
        sa.Column("has_details", sa.Integer(), nullable=False),
        sa.Column("failure", sa.String(length=500), nullable=True),
        _at("started_at"),
        _at("finished_at", nullable=True),
        sa.ForeignKeyConstraint(["model_id"], ["evaluation_models.id"],
                                name=op.f("fk_evaluation_runs_model_id_evaluation_models")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_runs")),
    )
    op.create_index(op.f("ix_evaluation_runs_model_id"), "evaluation_runs", ["model_id"], unique=False)
    op.create_table(
        "evaluation_scores",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(length=8), nullable=False),
        sa.Column("override", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["evaluation_runs.id"],
                                name=op.f("fk_evaluation_scores_run_id_evaluation_runs"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "subject_id", name=op.f("pk_evaluation_scores")),
    )
    op.create_index("ix_evaluation_scores_subject_run", "evaluation_scores", ["subject_id", "run_id"], unique=False)
    op.create_table(
        "evaluation_points",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=40), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("evidence", sa.String(length=400), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["evaluation_runs.id"],
                                name=op.f("fk_evaluation_points_run_id_evaluation_runs"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "subject_id", "indicator", name=op.f("pk_evaluation_points")),
    )
    op.create_table(
        "evaluation_changes",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("previous_run_id", sa.Integer(), nullable=False),
        sa.Column("from_grade", sa.String(length=8), nullable=False),
        sa.Column("to_grade", sa.String(length=8), nullable=False),
        sa.Column("from_score", sa.Integer(), nullable=False),
        sa.Column("to_score", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["evaluation_runs.id"],
                                name=op.f("fk_evaluation_changes_run_id_evaluation_runs"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "subject_id", name=op.f("pk_evaluation_changes")),
    )
    op.create_index("ix_evaluation_changes_run_to", "evaluation_changes", ["run_id", "to_grade"], unique=False)

    op.create_table(
        "inspectors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("badge_no", sa.String(length=40), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        _at("created_at"),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"],
                                name=op.f("fk_inspectors_department_id_departments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspectors")),
        sa.UniqueConstraint("badge_no", name=op.f("uq_inspectors_badge_no")),
    )
    op.create_index(op.f("ix_inspectors_department_id"), "inspectors", ["department_id"], unique=False)
    op.create_table(
        "inspector_exclusions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspector_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        _at("created_at"),
        sa.ForeignKeyConstraint(["inspector_id"], ["inspectors.id"],
                                name=op.f("fk_inspector_exclusions_inspector_id_inspectors")),
        sa.ForeignKeyConstraint(["subject_id"], ["subjects.id"], name=op.f("fk_inspector_exclusions_subject_id_subjects")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspector_exclusions")),
        sa.UniqueConstraint("inspector_id", "subject_id", name=op.f("uq_inspector_exclusions_inspector_id_subject_id")),
    )
    op.create_index(op.f("ix_inspector_exclusions_inspector_id"), "inspector_exclusions", ["inspector_id"],
                    unique=False)  # fmt: skip
    op.create_table(
        "inspection_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=24), nullable=False),
        sa.Column("matter", sa.String(length=200), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("population", _json(), nullable=False),
        sa.Column("ratios", _json(), nullable=False),
        sa.Column("special_domains", _json(), nullable=False),
        sa.Column("inspectors_per_subject", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        _at("created_at"),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("publish_until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["department_id"], ["departments.id"],
                                name=op.f("fk_inspection_plans_department_id_departments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_plans")),
        sa.UniqueConstraint("number", name=op.f("uq_inspection_plans_number")),
    )
    op.create_index(op.f("ix_inspection_plans_department_id"), "inspection_plans", ["department_id"], unique=False)
    op.create_table(
        "inspection_plan_inspectors",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("inspector_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["inspector_id"], ["inspectors.id"],
                                name=op.f("fk_inspection_plan_inspectors_inspector_id_inspectors")),
        sa.ForeignKeyConstraint(["plan_id"], ["inspection_plans.id"],
                                name=op.f("fk_inspection_plan_inspectors_plan_id_inspection_plans"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("plan_id", "inspector_id", name=op.f("pk_inspection_plan_inspectors")),
    )
    op.create_table(
        "inspection_plan_sectors",
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("sector", sa.String(length=40), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["plan_id"], ["inspection_plans.id"],
                                name=op.f("fk_inspection_plan_sectors_plan_id_inspection_plans"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("plan_id", "sector", "subject_id", name=op.f("pk_inspection_plan_sectors")),
    )
    op.create_table(
        "inspection_draws",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("evaluation_run_id", sa.Integer(), nullable=False),
        sa.Column("on_day", sa.Date(), nullable=False),
        sa.Column("population_size", sa.Integer(), nullable=False),
        sa.Column("population_digest", sa.String(length=64), nullable=False),
        sa.Column("population", sa.LargeBinary(), nullable=False),
        sa.Column("roster", _json(), nullable=False),
        sa.Column("strata", _json(), nullable=False),
        sa.Column("drawn", sa.Integer(), nullable=False),
        sa.Column("result_digest", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        _at("created_at"),
        sa.ForeignKeyConstraint(["evaluation_run_id"], ["evaluation_runs.id"],
                                name=op.f("fk_inspection_draws_evaluation_run_id_evaluation_runs")),
        sa.ForeignKeyConstraint(["plan_id"], ["inspection_plans.id"],
                                name=op.f("fk_inspection_draws_plan_id_inspection_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_draws")),
        sa.UniqueConstraint("plan_id", name=op.f("uq_inspection_draws_plan_id")),
    )
    op.create_table(
        "inspection_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(length=8), nullable=False),
        sa.Column("special_domain", sa.String(length=40), nullable=True),
        sa.Column("inspector_ids", _json(), nullable=False),
        sa.Column("outcome", sa.String(length=60), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("inspected_on", sa.Date(), nullable=True),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.String(length=100), nullable=True),
        _at("recorded_at", nullable=True),
        sa.ForeignKeyConstraint(["plan_id"], ["inspection_plans.id"],
                                name=op.f("fk_inspection_assignments_plan_id_inspection_plans")),
        sa.ForeignKeyConstraint(["record_id"], ["records.id"], name=op.f("fk_inspection_assignments_record_id_records")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_assignments")),
        sa.UniqueConstraint("plan_id", "subject_id", name=op.f("uq_inspection_assignments_plan_id_subject_id")),
    )


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
