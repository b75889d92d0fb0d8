"""Console routes, one module per area; all mounted under /admin."""

from fastapi import APIRouter

from xinyong.admin.views import account, manage, records

router = APIRouter(include_in_schema=False)
router.include_router(account.router)
router.include_router(records.router)
router.include_router(manage.router)
