"""Logging in and out, and signing up."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from modelplaza.auth.accounts import check_password, create_user, new_password
from modelplaza.auth.throttle import retry_in
from modelplaza.errors import PlazaError
from modelplaza.http.context import client_address, get_plaza
from modelplaza.web.forms import PostedForm, form_text, safe_next
from modelplaza.web.routing import page_router
from modelplaza.web.sessions import log_in, log_out, page_principal
from modelplaza.web.templating import flash, render

router = page_router()
MAX_EMAIL = 320


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    if not page_principal(request).is_anonymous:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "accounts/login.html", next=safe_next(next))


def _throttled(request: Request, wait: float, target: str, name: str) -> Response:
    seconds, again = retry_in(wait)
    error = f"Too many failed logins from your address: {again}."
    response = render(request, "accounts/login.html", status=429, next=target, username=name, error=error)
    response.headers["Retry-After"] = str(seconds)
    return response


@router.post("/login")
def login(request: Request, form: PostedForm) -> Response:
    name, target = form_text(form, "username").strip(), safe_next(form_text(form, "next"))
    plaza, address = get_plaza(request), client_address(request)
    wait = plaza.logins.attempt(name, address)
    if wait:
        return _throttled(request, wait, target, name)
    with plaza.db.read() as session:
        account = check_password(session, name, form_text(form, "password"))
    if account is None:
        plaza.logins.failed(name, address)
        # The same words whether the name exists or not.
        error = "Incorrect username or password."
        return render(request, "accounts/login.html", status=401, next=target, username=name, error=error)
    plaza.logins.succeeded(name, address)
    response = RedirectResponse(target, status_code=303)
    log_in(request, response, account)
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    response = RedirectResponse("/", status_code=303)
    log_out(request, response)
    flash(response, "You have logged out.")
    return response


def _signup_closed(request: Request) -> Response:
    return render(request, "accounts/signup_closed.html", status=403)


@router.get("/join")
def join_page(request: Request, next: str = "/") -> Response:
    if not get_plaza(request).settings.allow_signup:
        return _signup_closed(request)
    if not page_principal(request).is_anonymous:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "accounts/join.html", next=safe_next(next), values={}, errors={})


def _field_errors(values: dict[str, str], password: str, confirmation: str) -> dict[str, str]:
    """What the form can tell before asking the accounts module (which checks names and passwords)."""
    errors = {}
    local, at, domain = values["email"].partition("@")
    if not (local and at and "." in domain) or " " in values["email"] or len(values["email"]) > MAX_EMAIL:
        errors["email"] = "Enter an email address such as ada@example.org."
    if password != confirmation:
        errors["password_confirm"] = "The two passwords differ."
    return errors


@router.post("/join")
def join(request: Request, form: PostedForm) -> Response:
    if not get_plaza(request).settings.allow_signup:
        return _signup_closed(request)
    values = {field: form_text(form, field).strip() for field in ("name", "fullname", "email")}
    password, target = form_text(form, "password"), safe_next(form_text(form, "next"))
    errors = _field_errors(values, password, form_text(form, "password_confirm"))
    status = 400
    if not errors:
        try:
            password_hash = new_password(password)
            with get_plaza(request).db.write() as session:
                account = create_user(
                    session, values["name"], password_hash, email=values["email"], fullname=values["fullname"]
                )
        except PlazaError as exc:
            errors["form"], status = exc.message, exc.status
        else:
            response = RedirectResponse(target, status_code=303)
            log_in(request, response, account)
            flash(response, f"Welcome to ModelPlaza, {account.name}!")
            return response
    return render(request, "accounts/join.html", status=status, next=target, values=values, errors=errors)
