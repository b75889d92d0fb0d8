"""What the console shows of the exchange: destinations, webhooks, list editions and the review queue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.changelog import service as changelog
from xinyong.changelog.service import Position
from xinyong.departments.models import ApiKey, Department
from xinyong.exchange.models import Destination, ListEdition, ListReview, Webhook
from xinyong.lists.models import ListType


@dataclass
class Overview:
    head: Position
    destinations: list[Destination]
    webhooks: list[tuple[Webhook, str]]
    editions: list[tuple[ListEdition, str, str]]
    reviews: list[ListReview]


def overview(session: Session, *, limit: int = 50) -> Overview:
    webhooks: list[Any] = list(session.execute(
        select(Webhook, ApiKey.prefix).join(ApiKey, ApiKey.id == Webhook.api_key_id).order_by(Webhook.id)
    ))  # fmt: skip
    editions: list[Any] = list(session.execute(
        select(ListEdition, ListType.name, Department.name)
        .join(ListType, ListType.id == ListEdition.list_type_id)
        .join(Department, Department.id == ListEdition.department_id)
        .order_by(ListEdition.id.desc()).limit(limit)
    ))  # fmt: skip
    return Overview(
        head=changelog.head(session),
        destinations=list(session.scalars(select(Destination).order_by(Destination.name))),
        webhooks=webhooks, editions=editions,
        reviews=list(session.scalars(select(ListReview).where(ListReview.state == "pending")
                                     .order_by(ListReview.id).limit(limit))),
    )  # fmt: skip
