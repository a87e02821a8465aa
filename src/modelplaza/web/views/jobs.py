"""The jobs pages: the visitor's jobs (an admin's: everyone's), one job with its live curves and
log tail, and the recipe form that submits a training job, opened from a dataset's Train button.

The job page renders the events stored so far into itself; static/jobs.js draws them and then
follows the job's event stream (``/api/jobs/{id}/stream``) from the last one."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from modelplaza import data
from modelplaza.auth.permissions import visible_job_owner
from modelplaza.auth.principal import Authenticated
from modelplaza.db.models import LARGEST_ID, Job
from modelplaza.errors import Conflict, JobNotFound, PlazaError
from modelplaza.http.context import get_plaza
from modelplaza.http.shapes import event_json
from modelplaza.hub import refs, repos
from modelplaza.jobs import kinds, queue, submission
from modelplaza.names import split_repo_id
from modelplaza.plaza import Plaza
from modelplaza.train import recipe
from modelplaza.train.draft import draft_recipe
from modelplaza.train.submit import taken_model_names
from modelplaza.web.forms import PostedForm, form_text, login_first, redirect, signed_in
from modelplaza.web.params import page_number
from modelplaza.web.routing import page_router
from modelplaza.web.sessions import page_principal
from modelplaza.web.templating import render

router = page_router()
JOBS_URL = "/jobs"
JOBS_NEED_LOGIN = "Log in to run jobs."
PAGE_SIZE = 30
LOG_TAIL = 200
# Step losses sent with the page at most: more are thinned evenly (new ones still all stream in).
PAGE_STEPS = 5000
# What the recipe form's guide lists, from the recipe schema itself.
GUIDE = {
    "optimisers": tuple(recipe.OPTIMISER_OPTIONS),
    "classification_losses": recipe.CLASSIFICATION_LOSSES,
    "regression_losses": recipe.REGRESSION_LOSSES,
    "classification_metrics": recipe.CLASSIFICATION_METRICS,
    "regression_metrics": recipe.REGRESSION_METRICS,
}


def _job_id(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18 or int(raw) > LARGEST_ID:
        raise JobNotFound(f"Job {raw[:40]!r} not found")
    return int(raw)


# --- the list ------------------------------------------------------------------------------


@router.get(JOBS_URL)
def job_list(request: Request, state: str = "", p: str = "") -> Response:
    if response := login_first(request):
        return response
    principal = signed_in(request, JOBS_NEED_LOGIN)
    page = page_number(p)
    with get_plaza(request).db.read() as session:
        jobs = queue.list_jobs(
            session, principal, state=state or None, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
        )
        everyones = visible_job_owner(principal) is None
        owners = {job.id: queue.owner_name(session, job) for job in jobs} if everyones else {}

    def page_url(number: int) -> str:
        params = {"state": state} if state else {}
        params |= {"p": str(number)} if number > 1 else {}
        return JOBS_URL + (f"?{urlencode(params)}" if params else "")

    return render(
        request,
        "jobs/list.html",
        jobs=jobs[:PAGE_SIZE],
        epochs={job.id: kinds.page(job.kind).total_epochs(job.spec) for job in jobs},
        owners=owners,
        state=state,
        states=queue.STATES,
        page=page,
        has_next=len(jobs) > PAGE_SIZE,
        page_url=page_url,
    )


# --- the recipe form -----------------------------------------------------------------------


def _draft(session: Session, plaza: Plaza, principal: Authenticated, dataset: str, revision: str) -> str:
    """A recipe for the dataset's revision, from its splits and its training split's columns,
    writing to a model name of the visitor's not yet used; a skeleton to fill in when no dataset
    is named."""
    taken = taken_model_names(session, principal)
    if not dataset:
        return draft_recipe(f"{principal.name}/my-dataset", revision, principal.name, [], [], taken)
    namespace, name = split_repo_id(dataset)
    repo = repos.get_readable(session, principal, "dataset", namespace, name)
    found = data.splits(session, plaza.contents, refs.resolve(session, repo, revision))
    train = next((s for s in found if s.name == "train"), found[0] if found else None)
    try:
        columns = data.columns(session, plaza.contents, train.files[0]) if train else ()
    except data.UnreadableData:
        columns = ()  # the draft leaves the columns to fill in; the viewer says what is wrong
    return draft_recipe(repo.repo_id, revision, principal.name, [s.name for s in found], columns, taken)


def _form(request: Request, status: int = 200, **context: object) -> Response:
    return render(request, "jobs/new.html", status=status, guide=GUIDE, **context)


@router.get(JOBS_URL + "/new")
def new_job(request: Request, dataset: str = "", revision: str = "main") -> Response:
    if response := login_first(request):
        return response
    principal = signed_in(request, JOBS_NEED_LOGIN)
    plaza = get_plaza(request)
    with plaza.db.read() as session:
        text = _draft(session, plaza, principal, dataset.strip(), revision.strip() or "main")
    return _form(request, recipe_text=text, dataset=dataset.strip())


@router.post(JOBS_URL + "/new")
def submit_job(request: Request, form: PostedForm) -> Response:
    principal = signed_in(request, JOBS_NEED_LOGIN)
    text, dataset = form_text(form, "recipe"), form_text(form, "dataset")
    try:
        job_id = submission.submit_job(get_plaza(request), principal, "train", text)
    except PlazaError as exc:
        problems = exc.message.splitlines()
        return _form(request, status=exc.status, recipe_text=text, dataset=dataset, problems=problems)
    return redirect(f"{JOBS_URL}/{job_id}", f"Job {job_id} submitted: it starts when a worker is free.")


# --- one job -------------------------------------------------------------------------------


def _page_events(session: Session, job: Job) -> tuple[list[dict], int]:
    """The events the page starts from, as the events API gives them (every metric, the log's
    tail, the state changes; step losses thinned to PAGE_STEPS), and the id of the last stored
    event, to stream after."""
    events = list(queue.all_events(session, job))
    after = events[-1].id if events else 0
    logs = [e.id for e in events if e.kind == "log"]
    steps = [e.id for e in events if e.kind == "metrics" and e.data.get("kind") == "step"]
    stride = max(1, -(-len(steps) // PAGE_STEPS))  # ceiling division
    dropped = set(logs[:-LOG_TAIL]) | (set(steps) - set(steps[::stride]))
    return [event_json(e) for e in events if e.id not in dropped], after


@router.get(JOBS_URL + "/{job_id}")
def job_page(request: Request, job_id: str) -> Response:
    if response := login_first(request):
        return response
    principal = page_principal(request)
    with get_plaza(request).db.read() as session:
        job = queue.get_visible(session, principal, _job_id(job_id))
        events, after = _page_events(session, job)
        owner = queue.owner_name(session, job)
    page = kinds.page(job.kind)
    return render(
        request,
        "jobs/job.html",
        job=job,
        owner=owner,
        events=events,
        after=after,
        finished=job.state in queue.FINISHED,
        kind_page=page,
        epochs=page.total_epochs(job.spec),
        scores=page.scores(job.progress),
        result_link=page.result_link(job.result) if job.state == queue.SUCCEEDED else None,
    )


@router.post(JOBS_URL + "/{job_id}/cancel")
def cancel_job(request: Request, job_id: str) -> Response:
    principal, number = signed_in(request, JOBS_NEED_LOGIN), _job_id(job_id)
    url = f"{JOBS_URL}/{number}"
    try:
        with get_plaza(request).db.write() as session:
            job = queue.get_visible(session, principal, number)
            queue.request_cancel(session, principal, job)
            cancelled = job.state == queue.CANCELLED
    except Conflict as exc:
        return redirect(url, exc.message)
    if cancelled:
        return redirect(url, "Job cancelled before it started.")
    return redirect(url, "Cancellation requested: the job stops at its next step.")
