"""The API documentation page renders its operations from the plaza alone: every request that
would leave the plaza is refused, as it would fail offline."""

from __future__ import annotations

from playwright.sync_api import Page, Route, expect

from tests.plaza_server import PlazaServer
from tests.ui.conftest import screenshot


def test_api_docs_render_offline(page: Page, plaza: PlazaServer) -> None:
    elsewhere: list[str] = []

    def only_the_plaza(route: Route) -> None:
        if route.request.url.startswith(plaza.url + "/"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.context.route("**/*", only_the_plaza)
    page.goto("/api/docs")
    whoami = page.locator(".opblock", has_text="/api/whoami-v2")
    expect(whoami).to_be_visible()
    assert page.locator(".opblock").count() > 20
    whoami.locator(".opblock-summary").click()
    expect(whoami.get_by_text("WhoAmI").first).to_be_attached()
    screenshot(page, "api docs")
    assert elsewhere == []
