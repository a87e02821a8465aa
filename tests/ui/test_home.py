"""The home page and the error pages, as an anonymous visitor sees them."""

from playwright.sync_api import Page, expect

from tests.ui.conftest import screenshot


def test_home_page_offers_search_and_listings(page: Page):
    page.goto("/")
    expect(page).to_have_title("Home · ModelPlaza")
    expect(page.get_by_role("heading", name="Trending models")).to_be_visible()
    expect(page.get_by_role("heading", name="Recently updated datasets")).to_be_visible()
    expect(page.get_by_role("searchbox", name="Search models and datasets, and their cards")).to_be_visible()
    screenshot(page, "home")


def test_unknown_page_answers_a_helpful_404(page: Page):
    response = page.goto("/no-such-user/no-such-model/tree/main/x")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_role("link", name="Back to the home page")).to_be_visible()
    assert "Traceback" not in page.content()


def test_keyboard_users_can_skip_to_content(page: Page):
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
