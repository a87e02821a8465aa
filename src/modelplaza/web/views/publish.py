"""TODO"""

from modelplaza.web.routing import page_router

router = page_router()
