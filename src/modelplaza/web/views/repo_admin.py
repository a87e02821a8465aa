"""Branches and tags (for the repo's writers) and the repo's settings (for its admins):
visibility, and deleting the repo. The publish router carries these routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from starlette.responses import Response

from modelplaza.errors import BadRequest, PlazaError
from modelplaza.http.context import get_plaza
from modelplaza.hub import refs, repos
from modelplaza.web.editing import writable_page
from modelplaza.web.forms import login_first, redirect
from modelplaza.web.routing import page_router, repo_route
from modelplaza.web.templating import render

router = page_router()
FormText = Annotated[str, Form()]
REF_KINDS = ("branch", "tag")


def _kind(kind: str) -> str:
    if kind not in REF_KINDS:
        raise BadRequest(f"Unknown kind of ref {kind!r}: choose a branch or a tag")
    return kind


# Branches and tags


def _refs_page(
    request: Request, namespace: str, name: str, values: dict, error: str | None = None, status: int = 200
) -> Response:
    with get_plaza(request).db.read() as session:
        rp = writable_page(request, session, namespace, name, None, "commits")
        found = refs.list_refs(session, rp.repo)
    return render(
        request,
        "publish/refs.html",
        status=status,
        rp=rp,
        branches=[r for r in found if r.kind == "branch"],
        tags=[r for r in found if r.kind == "tag"],
        values=values,
        error=error,
    )


@repo_route(router, "/refs")
def refs_page(request: Request, namespace: str, name: str) -> Response:
    if response := login_first(request):
        return response
    return _refs_page(request, namespace, name, {"revision": refs.DEFAULT_BRANCH})


@repo_route(router, "/refs", ("POST",))
def create_ref(
    request: Request,
    namespace: str,
    name: str,
    kind: FormText = "branch",
    ref_name: Annotated[str, Form(alias="name")] = "",
    revision: FormText = "",
    message: FormText = "",
) -> Response:
    values = {"kind": kind, "name": ref_name.strip(), "revision": revision.strip(), "message": message}
    try:
        with get_plaza(request).db.write() as session:
            rp = writable_page(request, session, namespace, name, None, "commits")
            start = values["revision"] or refs.DEFAULT_BRANCH
            if _kind(kind) == "tag":
                refs.create_tag(session, rp.repo, values["name"], start, message.strip() or None)
            else:
                refs.create_branch(session, rp.repo, values["name"], start)
    except PlazaError as exc:
        return _refs_page(request, namespace, name, values, exc.message, exc.status)
    return redirect(f"{rp.url}/refs", f"Created the {kind} {values['name']}")


@repo_route(router, "/refs/delete", ("POST",))
def delete_ref(
    request: Request,
    namespace: str,
    name: str,
    kind: FormText = "",
    ref_name: Annotated[str, Form(alias="name")] = "",
) -> Response:
    with get_plaza(request).db.write() as session:
        rp = writable_page(request, session, namespace, name, None, "commits")
        refs.delete_ref(session, rp.repo, _kind(kind), ref_name)
    return redirect(f"{rp.url}/refs", f"Deleted the {kind} {ref_name}")


# Settings


def _settings_page(
    request: Request, namespace: str, name: str, error: str | None = None, status: int = 200
) -> Response:
    with get_plaza(request).db.read() as session:
        rp = writable_page(request, session, namespace, name, None, "settings", admin=True)
    return render(request, "publish/settings.html", status=status, rp=rp, error=error)


@repo_route(router, "/settings")
def settings_page(request: Request, namespace: str, name: str) -> Response:
    if response := login_first(request):
        return response
    return _settings_page(request, namespace, name)


@repo_route(router, "/settings", ("POST",))
def change_visibility(request: Request, namespace: str, name: str, visibility: FormText = "") -> Response:
    if visibility not in ("public", "private"):
        raise BadRequest("Choose public or private")
    with get_plaza(request).db.write() as session:
        rp = writable_page(request, session, namespace, name, None, "settings", admin=True)
        repos.update_settings(rp.repo, private=visibility == "private")
        url, repo_id = rp.url, rp.repo.repo_id
    return redirect(f"{url}/settings", f"{repo_id} is now {visibility}")


@repo_route(router, "/settings/delete", ("POST",))
def delete_repo(request: Request, namespace: str, name: str, confirm: FormText = "") -> Response:
    with get_plaza(request).db.write() as session:
        rp = writable_page(request, session, namespace, name, None, "settings", admin=True)
        repo_id, owner = rp.repo.repo_id, rp.repo.namespace
        if confirm.strip() == repo_id:
            repos.delete_repo(session, rp.repo)
    if confirm.strip() != repo_id:
        message = f"Nothing was deleted: type {repo_id} exactly to confirm"
        return _settings_page(request, namespace, name, message, 400)
    return redirect(f"/{owner}", f"Deleted {repo_id}")
