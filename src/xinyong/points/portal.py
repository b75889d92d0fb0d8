"""Personal credit points on the portal: the model published in full with its simulator (anyone), and the
person's own page (opt in, score, band, contributions, benefits unlocked, opt out). No other page shows points."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from xinyong.accounts.deps import SignedInAccount
from xinyong.points import benefits, rules, service
from xinyong.subjects.models import Subject
from xinyong.web import forms
from xinyong.web.deps import Today, UoW
from xinyong.web.errors import on_error_redirect, redirect
from xinyong.web.templating import render
from xinyong.web.uow import router as make_router

router = make_router(include_in_schema=False)
PAGE = "/account/points"


@router.get("/points/model", name="portal.points.model")
def model_page(request: Request) -> Response:
    """The whole model, and the simulator: how many records of each item earn what (no one's data)."""
    points_model = service.model()
    counts = {}
    for item in points_model.items:
        raw = request.query_params.get(item.key, "")[:3]
        counts[item.key] = int(raw) if raw.isdigit() else 0
    simulated = rules.simulate(points_model, counts) if any(counts.values()) else None
    return render(request, "portal/points/model.html", {"m": points_model, "counts": counts, "simulated": simulated})


@router.get("/account/points", name="account.points")
def own_page(request: Request, uow: UoW, today: Today, account: SignedInAccount) -> Response:
    if not account.is_identity_verified:
        return redirect(request, "/account", flash_message="请先完成主体身份核验，再开通个人信用积分", kind="warning")
    session = uow.session
    subject = session.get(Subject, account.subject_id)
    assert subject is not None
    context: dict[str, object] = {"subject": subject, "m": service.model(), "member": None}
    if service.member_of(session, account) is not None:
        # The day's score is kept in the history: a write, in the writers' turn, in a transaction of its own.
        score, history = uow.write_in_thread(lambda: service.own_score(session, account, today=today))
        context.update(member=True, score=score, history=history,
                       unlocked=benefits.unlocked(session, score.band.key, today))  # fmt: skip
    return render(request, "portal/points/account.html", context)


@router.post("/account/points/opt-in", name="account.points.opt_in")
async def opt_in(request: Request, uow: UoW, account: SignedInAccount) -> Response:
    await forms.read_form(request)
    on_error_redirect(request, PAGE)
    await uow.run_as_writer(lambda: service.opt_in(uow.session, account))
    return redirect(request, PAGE, flash_message="已开通个人信用积分。积分只用于守信激励，您可随时关闭")


@router.post("/account/points/opt-out", name="account.points.opt_out")
async def opt_out(request: Request, uow: UoW, account: SignedInAccount) -> Response:
    await forms.read_form(request)
    on_error_redirect(request, PAGE)
    await uow.run_as_writer(lambda: service.opt_out(uow.session, account))
    return redirect(request, PAGE, flash_message="已关闭个人信用积分，积分记录已全部删除")
