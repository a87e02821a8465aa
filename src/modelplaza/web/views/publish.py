"""Publishing from the browser: a new repo, uploads, the card editor and deleting files. Each
page calls the same domain functions as the API (branches, tags and settings are in
``repo_admin``, whose routes this router carries)."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import JSONResponse
from markupsafe import Markup
from pydantic import BaseModel, Field
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from modelplaza.auth import permissions
from modelplaza.auth.permissions import Action
from modelplaza.errors import BadRequest, CommitConflict, EntryNotFound, PlazaError
from modelplaza.http.context import get_plaza
from modelplaza.http.limits import CARD_BODY, takes_body
from modelplaza.http.rawpath import param
from modelplaza.http.threads import in_thread
from modelplaza.hub import cards, commits, received, repos, trees
from modelplaza.hub.trees import Item
from modelplaza.web.editing import branch_of, writable_page
from modelplaza.web.errors import wants_json
from modelplaza.web.forms import login_first, redirect, signed_in
from modelplaza.web.repo_pages import RepoPage
from modelplaza.web.routing import page_router, repo_route, repo_url
from modelplaza.web.sessions import page_principal
from modelplaza.web.templating import render
from modelplaza.web.upload_form import (
    MAX_FILES,
    UPLOAD_BODY,
    ReceivedForm,
    path_problems,
    receive_form,
    upload_path,
)
from modelplaza.web.views import repo_admin

router = page_router()
CHANGE_NEEDS_LOGIN = "Log in to change this repo."
router.include_router(repo_admin.router)
FormText = Annotated[str, Form()]


class UploadNames(BaseModel):
    """The names of the files the upload page is about to send, and the folder they go into."""

    folder: str = ""
    paths: list[str] = Field(max_length=MAX_FILES)


# New repo


def _new_form(
    request: Request, values: dict[str, str], error: str | None = None, status: int = 200
) -> Response:
    user = signed_in(request, "Log in to create a repo.")
    orgs = sorted(org for org in user.org_roles if permissions.allowed(user, Action.CREATE_REPO, org))
    owners = [user.name, *orgs]
    return render(request, "publish/new.html", status=status, values=values, owners=owners, error=error)


@router.get("/new")
def new_repo_form(request: Request) -> Response:
    if response := login_first(request):
        return response
    repo_type = request.query_params.get("type", "model")
    values = {
        "type": repo_type if repo_type in repos.REPO_TYPES else "model",
        "owner": signed_in(request, "Log in to create a repo.").name,
        "name": "",
        "visibility": "public",
    }
    return _new_form(request, values)


@router.post("/new")
def create_repo(
    request: Request,
    repo_type: Annotated[str, Form(alias="type")] = "model",
    owner: FormText = "",
    name: FormText = "",
    visibility: FormText = "public",
) -> Response:
    if response := login_first(request):
        return response
    values = {"type": repo_type, "owner": owner, "name": name.strip(), "visibility": visibility}
    plaza = get_plaza(request)
    try:
        gitattributes = commits.default_gitattributes(plaza.blobs)
        with plaza.db.write() as session:
            repo = repos.create_repo(
                session,
                page_principal(request),
                repos.check_repo_type(repo_type),
                owner,
                values["name"],
                private=visibility == "private",
                gitattributes=gitattributes,
            )
            url, repo_id = repo_url(repo), repo.repo_id
    except PlazaError as exc:
        return _new_form(request, values, exc.message, exc.status)
    return redirect(url, f"Created {repo_id}: add files to publish it")


# Upload


def _upload_page(
    request: Request, namespace: str, name: str, rev: str, error: str | None = None, status: int = 200
) -> Response:
    rp = _upload_target(request, namespace, name, rev)
    folder = request.query_params.get("folder", "")
    return render(request, "publish/upload.html", status=status, rp=rp, folder=folder, error=error)


@repo_route(router, "/upload/{rev}")
def upload_form(request: Request, namespace: str, name: str, rev: str) -> Response:
    if response := login_first(request):
        return response
    return _upload_page(request, namespace, name, rev)


@repo_route(router, "/upload/{rev}", ("POST",))
@takes_body(UPLOAD_BODY)
async def upload(request: Request, namespace: str, name: str, rev: str) -> Response:
    """Receive the files (streamed into the blob store), then commit them all at once. The
    page's script asks for JSON; a form sent without it gets a redirect."""
    plaza = get_plaza(request)
    try:
        # Who may upload where is settled before a byte of the files is read.
        await in_thread(_upload_target, request, namespace, name, rev)
        form = await receive_form(request, plaza)
        rp, commit_id = await in_thread(_commit_upload, request, namespace, name, rev, form)
    except ClientDisconnect:
        return Response(status_code=400)
    except PlazaError as exc:
        if wants_json(request):
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        return await in_thread(_upload_page, request, namespace, name, rev, exc.message, exc.status)
    if wants_json(request):
        return JSONResponse({"commit_url": f"{rp.url}/commit/{commit_id}", "files_url": rp.tab_url("tree")})
    count = len(form.files)
    return redirect(rp.tab_url("tree"), f"Committed {count} file{'s' if count != 1 else ''}")


@repo_route(router, "/upload/{rev}/check", ("POST",))
def check_upload(request: Request, namespace: str, name: str, rev: str, names: UploadNames) -> Response:
    """The page's script asks this with the files' names before it sends them: a refused name
    is told at once, not after every byte was uploaded."""
    try:
        _upload_target(request, namespace, name, rev)
    except PlazaError as exc:
        return JSONResponse({"error": exc.message}, status_code=exc.status)
    return JSONResponse({"problems": path_problems(names.folder, names.paths)})


def _upload_target(request: Request, namespace: str, name: str, rev: str) -> RepoPage:
    """The page of the repo and branch the visitor may upload to."""
    with get_plaza(request).db.read() as session:
        rp = writable_page(request, session, namespace, name, rev, "tree")
    branch_of(rp)
    return rp


def _commit_upload(
    request: Request, namespace: str, name: str, rev: str, form: ReceivedForm
) -> tuple[RepoPage, str]:
    plaza = get_plaza(request)
    folder = form.fields.get("folder", "")
    files = [replace(f, path=upload_path(folder, f.path)) for f in form.files]
    if not files:
        raise BadRequest("Choose at least one file to upload")
    title = form.fields.get("title", "").strip()
    title = title or (f"Upload {files[0].path}" if len(files) == 1 else f"Upload {len(files)} files")
    # Planning reads .gitattributes and small files back into regular ones, and the card is
    # parsed: before the write lock.
    with plaza.db.read() as session:
        rp = writable_page(request, session, namespace, name, rev, "tree")
        branch = branch_of(rp)
        operations = received.put_operations(
            session,
            plaza.contents,
            plaza.blobs,
            trees.snapshot(session, rp.commit_id),
            files,
            lfs_threshold=plaza.settings.lfs_threshold,
            max_file_size=plaza.settings.max_file_size,
        )
        card = commits.readme_card(session, plaza.contents, operations)
    with plaza.db.write() as session:
        rp = writable_page(request, session, namespace, name, rev, "tree")
        commit = commits.create_commit(
            session,
            rp.repo,
            branch,
            operations,
            title=title,
            message=form.fields.get("description", ""),
            author=signed_in(request, CHANGE_NEEDS_LOGIN).name,
            card=card,
        )
        return rp, commit.id


# Card editor


def _new_card(rp: RepoPage) -> str:
    what = "dataset" if rp.repo.type == "dataset" else "model"
    return (
        f"---\nlicense: apache-2.0\ntags: []\n---\n\n# {rp.repo.name}\n\n"
        f"Describe the {what}: what it is for, how it was made, and how to use it.\n"
    )


def _preview(rp: RepoPage, text: str) -> tuple[Markup | None, str | None]:
    """The card as its page will show it, or why its metadata is refused."""
    try:
        return rp.render_card(text)[1], None
    except cards.InvalidCardMetadata as exc:
        return None, exc.message


def _editor(
    request: Request, rp: RepoPage, text: str, parent: str, status: int = 200, **form: str | None
) -> Response:
    html, problem = _preview(rp, text)
    context = {"title": "Update README.md", "description": "", "error": None, **form}
    return render(
        request,
        "publish/edit_card.html",
        status=status,
        rp=rp,
        text=text,
        parent=parent,
        preview=html,
        preview_error=problem,
        **context,
    )


@repo_route(router, "/edit/{rev}/README.md")
def edit_card(request: Request, namespace: str, name: str, rev: str) -> Response:
    if response := login_first(request):
        return response
    plaza = get_plaza(request)
    with plaza.db.read() as session:
        rp = writable_page(request, session, namespace, name, rev, "card")
        branch_of(rp)
        entry = trees.get_file(session, rp.commit_id, commits.README)
        text = plaza.contents.read_bytes(session, entry.sha256).decode("utf-8", "replace") if entry else None
    return _editor(request, rp, text if text is not None else _new_card(rp), rp.commit_id)


@repo_route(router, "/edit/{rev}/README.md", ("POST",))
@takes_body(CARD_BODY)
def commit_card(
    request: Request,
    namespace: str,
    name: str,
    rev: str,
    text: FormText = "",
    parent: FormText = "",
    title: FormText = "",
    description: FormText = "",
) -> Response:
    text = text.replace("\r\n", "\n")  # Browsers send a textarea's lines with CRLF.
    plaza = get_plaza(request)
    try:
        try:
            card = cards.parse_card(text)
        except cards.InvalidCardMetadata as exc:
            raise cards.InvalidCardMetadata(f"Nothing was committed. {exc.message}") from None
        with plaza.db.read() as session:
            branch_of(writable_page(request, session, namespace, name, rev, "card"))
        # Stored once the visitor may write here, and before the write lock is taken.
        readme = commits.PutFile(commits.README, commits.regular_file(plaza.blobs, text.encode()))
        with plaza.db.write() as session:
            rp = writable_page(request, session, namespace, name, rev, "card")
            commits.create_commit(
                session,
                rp.repo,
                branch_of(rp),
                [readme],
                title=title.strip() or "Update README.md",
                message=description,
                author=signed_in(request, CHANGE_NEEDS_LOGIN).name,
                parent=parent or None,
                card=card,
            )
    except PlazaError as exc:
        message = exc.message
        if isinstance(exc, CommitConflict):
            message = (
                "Someone else committed to this branch after you opened the editor, so nothing was "
                "committed. Your text is kept below: copy it, reload the editor and make your change again."
            )
        with plaza.db.read() as session:
            rp = writable_page(request, session, namespace, name, rev, "card")
        form = {"title": title, "description": description, "error": message}
        return _editor(request, rp, text, parent, exc.status, **form)
    return redirect(rp.tab_url("card"), "Committed README.md")


@repo_route(router, "/preview", ("POST",))
@takes_body(CARD_BODY)
def preview_card(
    request: Request, namespace: str, name: str, text: FormText = "", rev: FormText = ""
) -> Response:
    """The editor's live preview (an htmx fragment)."""
    with get_plaza(request).db.read() as session:
        rp = writable_page(request, session, namespace, name, rev or None, "card")
    html, problem = _preview(rp, text.replace("\r\n", "\n"))
    return render(request, "publish/card_preview.html", preview=html, preview_error=problem)


# Deleting files


def _existing(session, rp: RepoPage, path: str) -> Item:
    item = trees.snapshot(session, rp.commit_id).item(param(path).strip("/"))
    if item is None:
        raise EntryNotFound(f"{param(path)!r} is not in {rp.repo.repo_id} at {rp.revision}", rp.commit_id)
    return item


@repo_route(router, "/delete/{rev}/{path:path}")
def confirm_delete(request: Request, namespace: str, name: str, rev: str, path: str) -> Response:
    if response := login_first(request):
        return response
    with get_plaza(request).db.read() as session:
        rp = writable_page(request, session, namespace, name, rev, "tree")
        branch_of(rp)
        item = _existing(session, rp, path)
    rp.path = item.path
    return render(request, "publish/delete.html", rp=rp, item=item)


@repo_route(router, "/delete/{rev}/{path:path}", ("POST",))
def delete_path(
    request: Request,
    namespace: str,
    name: str,
    rev: str,
    path: str,
    title: FormText = "",
    description: FormText = "",
) -> Response:
    plaza = get_plaza(request)
    with plaza.db.write() as session:
        rp = writable_page(request, session, namespace, name, rev, "tree")
        item = _existing(session, rp, path)
        commits.create_commit(
            session,
            rp.repo,
            branch_of(rp),
            [commits.DeletePath(item.path, folder=item.is_dir)],
            title=title.strip() or f"Delete {item.path}",
            message=description,
            author=signed_in(request, CHANGE_NEEDS_LOGIN).name,
        )
    return redirect(rp.tab_url("tree", path=item.path.rpartition("/")[0]), f"Deleted {item.path}")
