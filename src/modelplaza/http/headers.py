"""Security headers on every answer, pages and API alike.

A page may load only the plaza's own scripts, styles, fonts and pictures (and the ``data:``
pictures the dataset viewer inlines); it runs no inline script or style, talks only to the
plaza, and no other site may frame it. Anything that is not a page (a downloaded file, JSON, a
static asset opened on its own) gets a policy that runs nothing at all and a sandbox, so an
HTML or SVG file kept in a repo never executes as the plaza's origin, even if a browser were
talked into rendering it. Nothing is sent to other sites in a Referer."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
CONTENT_POLICY = "default-src 'none'; frame-ancestors 'none'; sandbox"
COMMON = {
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"same-origin",
}


def policy_for(content_type: str) -> str:
    """The Content-Security-Policy of an answer with this Content-Type."""
    return PAGE_POLICY if content_type.split(";")[0].strip().lower() == "text/html" else CONTENT_POLICY


class SecurityHeadersMiddleware:
    """Adds the headers to each answer's start, leaving alone any a route set itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
                extra = dict(COMMON)
                extra[b"content-security-policy"] = policy_for(content_type.decode("latin-1")).encode()
                headers += [(name, value) for name, value in extra.items() if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
