"""The logged-in user's settings: their password, API tokens, and the organisations they belong
to and manage."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Path, Request
from fastapi.responses import RedirectResponse, Response

from modelplaza.auth import accounts, sessions
from modelplaza.auth.permissions import Action, allowed, require
from modelplaza.auth.principal import Authenticated
from modelplaza.auth.throttle import retry_in
from modelplaza.db.models import LARGEST_ID
from modelplaza.errors import PlazaError
from modelplaza.http.context import client_address, get_plaza
from modelplaza.web.forms import PostedForm, form_text, login_first, redirect, signed_in
from modelplaza.web.routing import page_router
from modelplaza.web.templating import render

router = page_router()
PASSWORD_URL = "/settings/password"
TOKENS_URL = "/settings/tokens"
ORGS_URL = "/settings/organizations"
# A new token travels from the POST to the page showing it once in this cookie, so that
# reloading that page neither shows it again nor creates another one.
NEW_TOKEN_COOKIE = "plaza_new_token"
SETTINGS_NEED_LOGIN = "Log in to change your settings."


# --- Password ------------------------------------------------------------------------------


def _password_page(request: Request, status: int = 200, **errors: str) -> Response:
    return render(request, "accounts/password.html", status=status, errors=errors)


@router.get(PASSWORD_URL)
def password_page(request: Request) -> Response:
    if response := login_first(request):
        return response
    signed_in(request, SETTINGS_NEED_LOGIN)
    return _password_page(request)


@router.post(PASSWORD_URL)
def change_password(request: Request, form: PostedForm) -> Response:
    """A new password, given the current one; the user's other browser logins end."""
    principal = signed_in(request, SETTINGS_NEED_LOGIN)
    password = form_text(form, "password")
    if password != form_text(form, "password_confirm"):
        return _password_page(request, 400, password_confirm="The two new passwords differ.")
    plaza, address = get_plaza(request), client_address(request)
    # Guessing the current password (from a session left open) is slowed as logins are.
    if wait := plaza.logins.attempt(principal.name, address):
        seconds, again = retry_in(wait)
        response = _password_page(request, 429, current_password=f"Too many wrong passwords: {again}.")
        response.headers["Retry-After"] = str(seconds)
        return response
    with plaza.db.read() as session:
        known = accounts.check_password(session, principal.name, form_text(form, "current_password"))
    if known is None:
        plaza.logins.failed(principal.name, address)
        return _password_page(request, 400, current_password="That is not your current password.")
    plaza.logins.succeeded(principal.name, address)
    try:
        password_hash = accounts.new_password(password)
    except PlazaError as exc:
        return _password_page(request, exc.status, password=exc.message)
    with plaza.db.write() as session:
        user = accounts.set_password(session, principal.name, password_hash)
        ended = sessions.end_sessions(session, user, keep=request.cookies.get(sessions.SESSION_COOKIE))
    others = f" and {ended} other login{'s' if ended != 1 else ''} ended" if ended else ""
    return redirect(PASSWORD_URL, f"Password changed{others}.")


# --- API tokens ---------------------------------------------------------------------------


def _tokens_page(
    request: Request, principal: Authenticated, status: int = 200, **context: object
) -> Response:
    with get_plaza(request).db.read() as session:
        tokens = accounts.list_tokens(session, principal.user_id)
    return render(request, "accounts/tokens.html", status=status, tokens=tokens, **context)


@router.get(TOKENS_URL)
def tokens_page(request: Request) -> Response:
    if response := login_first(request):
        return response
    principal = signed_in(request, SETTINGS_NEED_LOGIN)
    page = _tokens_page(request, principal, new_token=request.cookies.get(NEW_TOKEN_COOKIE))
    page.delete_cookie(NEW_TOKEN_COOKIE, path=TOKENS_URL)
    return page


@router.post(TOKENS_URL)
def create_token(request: Request, form: PostedForm) -> Response:
    principal = signed_in(request, SETTINGS_NEED_LOGIN)
    name, write = form_text(form, "name"), form_text(form, "scope") == "write"
    try:
        with get_plaza(request).db.write() as session:
            token = accounts.create_token(session, principal.name, name, write=write)
    except PlazaError as exc:
        return _tokens_page(request, principal, status=exc.status, error=exc.message, name=name)
    response = RedirectResponse(TOKENS_URL, status_code=303)
    response.set_cookie(
        NEW_TOKEN_COOKIE,
        token,
        max_age=60,
        path=TOKENS_URL,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post(TOKENS_URL + "/{token_id}/revoke")
def revoke_token(request: Request, token_id: Annotated[int, Path(ge=1, le=LARGEST_ID)]) -> Response:
    principal = signed_in(request, SETTINGS_NEED_LOGIN)
    with get_plaza(request).db.write() as session:
        token = accounts.revoke_token(session, principal.user_id, token_id)
    return redirect(TOKENS_URL, f"Token “{token.name}” revoked: it no longer works.")


# --- Organisations -------------------------------------------------------------------------


def _orgs_page(request: Request, principal: Authenticated, status: int = 200, **context: object) -> Response:
    with get_plaza(request).db.read() as session:
        roles = accounts.org_roles(session, principal.user_id)
    managed = {org for org in roles if allowed(principal, Action.MANAGE_ORG, org)}
    return render(
        request,
        "accounts/organizations.html",
        status=status,
        roles=sorted(roles.items()),
        managed=managed,
        **context,
    )


@router.get(ORGS_URL)
def organizations_page(request: Request) -> Response:
    if response := login_first(request):
        return response
    return _orgs_page(request, signed_in(request, SETTINGS_NEED_LOGIN))


@router.post(ORGS_URL)
def create_organization(request: Request, form: PostedForm) -> Response:
    principal = signed_in(request, SETTINGS_NEED_LOGIN)
    name = form_text(form, "name").strip()
    try:
        with get_plaza(request).db.write() as session:
            accounts.create_org(session, name, principal.name)
    except PlazaError as exc:
        return _orgs_page(request, principal, status=exc.status, error=exc.message, name=name)
    return redirect(f"{ORGS_URL}/{quote(name)}", f"Organisation {name} created: you are its admin.")


def _manager(request: Request, org: str) -> Authenticated:
    """The logged-in admin of ``org``; 404 for no such org, 403 for anyone else."""
    principal = signed_in(request, SETTINGS_NEED_LOGIN)
    with get_plaza(request).db.read() as session:
        org = accounts.get_org(session, org).name  # as the org spells itself, whatever the URL's case
    return require(principal, Action.MANAGE_ORG, org)


def _members_page(request: Request, org: str, status: int = 200, **context: object) -> Response:
    with get_plaza(request).db.read() as session:
        members = accounts.list_members(session, org)
    context = {"org": org, "members": members, "roles": accounts.ROLES, **context}
    return render(request, "accounts/org_members.html", status=status, **context)


@router.get(ORGS_URL + "/{org}")
def members_page(request: Request, org: str) -> Response:
    if response := login_first(request):
        return response
    _manager(request, org)
    return _members_page(request, org)


def _after_change(principal: Authenticated, org: str, user: str, role: str | None, message: str) -> Response:
    """Back to the members page, or to the list of orgs when the admin gave up their own rights."""
    stays_admin = user != principal.name or role == "admin" or principal.is_admin
    return redirect(f"{ORGS_URL}/{quote(org)}" if stays_admin else ORGS_URL, message)


@router.post(ORGS_URL + "/{org}/members")
def set_member(request: Request, org: str, form: PostedForm) -> Response:
    """Add a member, or change a member's role."""
    principal = _manager(request, org)
    user, role = form_text(form, "name").strip(), form_text(form, "role")
    try:
        with get_plaza(request).db.write() as session:
            accounts.set_member(session, org, user, role)
    except PlazaError as exc:
        return _members_page(request, org, status=exc.status, error=exc.message, name=user, role=role)
    return _after_change(principal, org, user, role, f"{user} is now a member of {org} with the {role} role.")


@router.post(ORGS_URL + "/{org}/members/{user}/remove")
def remove_member(request: Request, org: str, user: str) -> Response:
    principal = _manager(request, org)
    try:
        with get_plaza(request).db.write() as session:
            accounts.remove_member(session, org, user)
    except PlazaError as exc:
        return _members_page(request, org, status=exc.status, error=exc.message)
    return _after_change(principal, org, user, None, f"{user} is no longer a member of {org}.")
