"""What the console shows of the exchange: destinations, webhooks, list editions and the review queue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xinyong.actors import Actor
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
    city_level: bool = True


def overview(session: Session, *, limit: int = 50, actor: Actor | None = None) -> Overview:
    """Everything, for the city's users; a county's users see the webhooks of its departments' keys, the list
    editions its departments applied and their rows under review — the upward exports (上报接收方) are the
    city's and are not listed for them."""
    scoped = actor is not None and actor.is_scoped

    def within(query: Any, department: Any, created: Any = None) -> Any:
        clause = actor.reach(department, created) if actor is not None else None
        return query if clause is None else query.where(clause)

    webhooks: list[Any] = list(session.execute(within(
        select(Webhook, ApiKey.prefix).join(ApiKey, ApiKey.id == Webhook.api_key_id).order_by(Webhook.id),
        ApiKey.department_id)))  # fmt: skip
    editions: list[Any] = list(session.execute(within(
        select(ListEdition, ListType.name, Department.name)
        .join(ListType, ListType.id == ListEdition.list_type_id)
        .join(Department, Department.id == ListEdition.department_id)
        .order_by(ListEdition.id.desc()).limit(limit), ListEdition.department_id, ListEdition.created_at)))  # fmt: skip
    reviews = within(select(ListReview).join(ListEdition, ListEdition.id == ListReview.edition_id)
                     .where(ListReview.state == "pending").order_by(ListReview.id).limit(limit),
                     ListEdition.department_id, ListEdition.created_at)  # fmt: skip
    return Overview(
        head=changelog.head(session),
        destinations=[] if scoped else list(session.scalars(select(Destination).order_by(Destination.name))),
        webhooks=webhooks, editions=editions, reviews=list(session.scalars(reviews)), city_level=not scoped,
    )  # fmt: skip
