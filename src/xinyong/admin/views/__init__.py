"""Console routes of the platform's own areas, one module per area; all under /admin."""

from xinyong.admin.views import account, manage, records
from xinyong.web.uow import router as make_router

router = make_router(include_in_schema=False)
router.include_router(account.router)
router.include_router(records.router)
router.include_router(manage.router)
