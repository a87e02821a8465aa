"""The native jobs API and the ``plaza train`` / ``plaza jobs`` commands against a real server.

The plaza here runs no worker, so a submitted job stays queued until it is cancelled: what is
tested is submission (every check before anything runs), listing, rights, cancelling and the
event stream, not training itself."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from huggingface_hub import HfApi
from sklearn.datasets import load_digits

from modelplaza.jobs.client import JobsApiError, JobsClient
from tests.plaza_server import PlazaServer, free_port, running_plaza

RECIPE = {
    "data": {
        "dataset": "alice/digits",
        "inputs": "pixel_*",
        "label": "label",
        "preprocessing": {"scale": "minmax", "reshape": [1, 8, 8]},
    },
    "model": {"type": "cnn", "channels": [8]},
    "optimizer": {"name": "adam", "lr": 0.01},
    "loss": "cross_entropy",
    "training": {"epochs": 3, "batch_size": 64},
    "output": {"repo": "alice/digits-cnn"},
}


def recipe_text(**changes: dict) -> str:
    """The digits recipe as YAML, with sections changed key by key."""
    recipe = json.loads(json.dumps(RECIPE))
    for section, values in changes.items():
        recipe[section] = {**recipe[section], **values}
    return yaml.safe_dump(recipe)


def parquet(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def digits_splits() -> dict[str, pa.Table]:
    digits = load_digits()
    table = pa.table(
        {f"pixel_{i}": digits.data[:, i].astype(np.float32) for i in range(64)} | {"label": digits.target}
    )
    return {"train": table.slice(0, 1200), "validation": table.slice(1200, 300), "test": table.slice(1500)}


@pytest.fixture(scope="module")
def jobs_plaza() -> Iterator[PlazaServer]:
    with running_plaza("jobs-api", free_port(), PLAZA_EMBEDDED_WORKER="0") as server:
        for user in ("alice", "bob"):
            server.cli("admin", "create-user", user, "--password", f"{user}-password")
            server.tokens[user] = server.token(user)
        server.cli("admin", "create-user", "root", "--password", "root-password", "--admin")
        server.tokens["root"] = server.token("root")
        server.tokens["alice-read"] = server.token("alice", write=False)
        server.cli("admin", "create-org", "acme", "--owner", "alice")
        alice = HfApi(endpoint=server.url, token=server.tokens["alice"])
        alice.create_repo("alice/digits", repo_type="dataset")
        for split, table in digits_splits().items():
            alice.upload_file(
                path_or_fileobj=parquet(table),
                path_in_repo=f"data/{split}-00000-of-00001.parquet",
                repo_id="alice/digits",
                repo_type="dataset",
            )
        bob = HfApi(endpoint=server.url, token=server.tokens["bob"])
        bob.create_repo("bob/secret-digits", repo_type="dataset", private=True)
        bob.upload_file(
            path_or_fileobj=parquet(digits_splits()["train"]),
            path_in_repo="train.parquet",
            repo_id="bob/secret-digits",
            repo_type="dataset",
        )
        yield server


def client(server: PlazaServer, user: str | None) -> JobsClient:
    return JobsClient(server.url, server.tokens[user] if user else None)


def refused(server: PlazaServer, text: str, user: str = "alice") -> JobsApiError:
    with client(server, user) as jobs, pytest.raises(JobsApiError) as caught:
        jobs.submit(text)
    return caught.value


def all_job_ids(server: PlazaServer) -> list[int]:
    with client(server, "root") as jobs:
        return [job["id"] for job in jobs.list(limit=500)]


def test_a_valid_recipe_is_queued_with_its_spec_and_title(jobs_plaza):
    text = recipe_text(output={"repo": "acme/digits-cnn", "private": True})
    with client(jobs_plaza, "alice") as jobs:
        job = jobs.submit(text)
        assert job == jobs.get(job["id"])
    assert job["state"] == "queued" and job["kind"] == "train" and job["owner"] == "alice"
    assert job["title"] == "train cnn on alice/digits"
    assert job["spec_text"] == text
    assert job["spec"]["output"] == {"repo": "acme/digits-cnn", "private": True}
    assert job["spec"]["optimizer"] == {"name": "adam", "lr": 0.01}  # as written, no defaults added
    assert job["started_at"] is None and job["result"] == {} and job["attempts"] == 0
    assert job["created_at"].endswith("Z")


def test_json_recipes_are_accepted_too(jobs_plaza):
    with client(jobs_plaza, "alice") as jobs:
        job = jobs.submit(json.dumps(RECIPE))
    assert job["spec"]["model"] == {"type": "cnn", "channels": [8]}


@pytest.mark.parametrize(
    ("text", "status", "message"),
    [
        (
            recipe_text(optimizer={"name": "adamx"}),
            400,
            "optimizer.name: unknown optimiser 'adamx'; choose one of sgd, adagrad, rmsprop, adam, adamw",
        ),
        (recipe_text(optimizer={"lr": -0.1}), 400, "optimizer.lr: must be greater than 0, got -0.1"),
        (
            recipe_text(data={"label": "digit"}),
            400,
            "data.label: no column 'digit' in the dataset; columns are pixel_0, pixel_1,",
        ),
        (
            recipe_text(data={"inputs": ["pixel_0", "brightness"]}),
            400,
            "data.inputs: no column 'brightness' in the dataset",
        ),
        (
            recipe_text(data={"splits": {"validation": "dev"}}),
            400,
            "data.splits.validation: the dataset has no split 'dev'; it has test, train, validation",
        ),
        (
            recipe_text(data={"preprocessing": {"reshape": [1, 9, 9]}}),
            400,
            "data.preprocessing.reshape: [1, 9, 9] holds 81 values but the inputs give 64 per row",
        ),
        (
            recipe_text(data={"revision": "v9"}),
            400,
            "data.dataset: 'v9' is not a branch, tag or commit of dataset alice/digits",
        ),
        (
            recipe_text(data={"dataset": "bob/secret-digits"}),
            404,
            "data.dataset: Repository not found: dataset bob/secret-digits",
        ),
        (
            recipe_text(data={"dataset": "alice/no-such-data"}),
            404,
            "data.dataset: Repository not found: dataset alice/no-such-data",
        ),
        (
            recipe_text(output={"repo": "bob/digits-cnn"}),
            403,
            "output.repo: you may not create repos in 'bob'",
        ),
        ("data:\n  dataset: [alice/digits\nmodel: cnn\n", 400, "recipe: not valid YAML or JSON at line"),
        ("- just\n- a list\n", 400, "recipe: expected a mapping with data, model, optimizer"),
    ],
)
def test_a_bad_recipe_is_refused_precisely_and_nothing_is_queued(jobs_plaza, text, status, message):
    before = all_job_ids(jobs_plaza)
    error = refused(jobs_plaza, text)
    assert error.status == status
    assert message in str(error)
    assert all_job_ids(jobs_plaza) == before


def test_every_problem_of_a_recipe_is_named_on_its_own_line(jobs_plaza):
    text = recipe_text(optimizer={"name": "adamx", "lr": -0.1}, training={"batch_size": 0})
    response = httpx.post(
        f"{jobs_plaza.url}/api/jobs",
        json={"kind": "train", "recipe": text},
        headers={"Authorization": f"Bearer {jobs_plaza.tokens['alice']}"},
    )
    assert response.status_code == 400
    lines = response.json()["error"].splitlines()
    assert lines == [
        "optimizer.name: unknown optimiser 'adamx'; choose one of sgd, adagrad, rmsprop, adam, adamw",
        "optimizer.lr: must be greater than 0, got -0.1",
        "training.batch_size: must be greater than or equal to 1, got 0",
    ]
    assert response.headers["X-Error-Message"] == "; ".join(lines)


def test_submitting_needs_a_write_token_and_a_known_kind(jobs_plaza):
    assert refused(jobs_plaza, recipe_text(), user=None).status == 401
    assert refused(jobs_plaza, recipe_text(), user="alice-read").status == 403
    response = httpx.post(
        f"{jobs_plaza.url}/api/jobs",
        json={"kind": "evaluate", "recipe": recipe_text()},
        headers={"Authorization": f"Bearer {jobs_plaza.tokens['alice']}"},
    )
    assert response.status_code == 400
    assert response.headers["X-Error-Message"] == "Unknown job kind 'evaluate': choose one of train"
    response = httpx.post(
        f"{jobs_plaza.url}/api/jobs",
        json={"kind": "train"},
        headers={"Authorization": f"Bearer {jobs_plaza.tokens['alice']}"},
    )
    assert (response.status_code, response.json()["error"]) == (
        400,
        "Invalid request: recipe: Field required",
    )


def test_a_queued_job_is_listed_shown_and_cancelled(jobs_plaza):
    with client(jobs_plaza, "alice") as jobs:
        job = jobs.submit(recipe_text())
        listed = jobs.list(state="queued")
        assert job["id"] in [j["id"] for j in listed]
        assert all(j["state"] == "queued" and j["owner"] == "alice" for j in listed)
        cancelled = jobs.cancel(job["id"])
        assert cancelled["state"] == "cancelled" and cancelled["finished_at"]
        assert cancelled["message"] == "Cancelled by alice before it started"
        assert job["id"] not in [j["id"] for j in jobs.list(state="queued")]
        assert job["id"] in [j["id"] for j in jobs.list(state="cancelled")]
        with pytest.raises(JobsApiError) as again:
            jobs.cancel(job["id"])
        assert again.value.status == 409 and "has already cancelled" in str(again.value)
        assert jobs.logs(job["id"]) == "[queued]\n[cancelled] Cancelled by alice before it started\n"
        found = jobs.events(job["id"])
    assert [(e["kind"], e["data"]["state"]) for e in found] == [("state", "queued"), ("state", "cancelled")]
    assert found[0]["id"] < found[1]["id"] and found[0]["created_at"].endswith("Z")


def test_listing_checks_its_parameters(jobs_plaza):
    with client(jobs_plaza, "alice") as jobs:
        assert len(jobs.list(limit=1)) == 1
        with pytest.raises(JobsApiError) as caught:
            jobs.list(state="sleeping")
        assert caught.value.status == 400 and "Unknown job state 'sleeping'" in str(caught.value)
        with pytest.raises(JobsApiError) as caught:
            jobs.list(limit=0)
        assert caught.value.status == 400
    with client(jobs_plaza, None) as anonymous, pytest.raises(JobsApiError) as caught:
        anonymous.list()
    assert caught.value.status == 401


def test_a_job_is_its_owners_and_the_admins_only(jobs_plaza):
    with client(jobs_plaza, "alice") as alice:
        job_id = alice.submit(recipe_text())["id"]
    with client(jobs_plaza, "bob") as bob:
        assert job_id not in [j["id"] for j in bob.list()]
        for call in (bob.get, bob.cancel, bob.logs, bob.events, lambda i: list(bob.stream(i))):
            with pytest.raises(JobsApiError) as caught:
                call(job_id)
            assert caught.value.status == 404 and f"Job {job_id} not found" in str(caught.value)
    with client(jobs_plaza, None) as anonymous, pytest.raises(JobsApiError) as caught:
        anonymous.get(job_id)
    assert caught.value.status == 404
    with client(jobs_plaza, "root") as root:
        assert root.get(job_id)["owner"] == "alice"
        assert job_id in [j["id"] for j in root.list()]
        assert root.cancel(job_id)["message"] == "Cancelled by root before it started"


def test_only_a_jobs_own_token_may_report_for_it(jobs_plaza):
    with client(jobs_plaza, "alice") as alice:
        job_id = alice.submit(recipe_text())["id"]
        for call in (
            lambda: alice.report(job_id, [{"kind": "log", "data": {"line": "hello"}}]),
            lambda: alice.set_result(job_id, {"repo": "alice/digits-cnn"}),
        ):
            with pytest.raises(JobsApiError) as caught:
                call()
            assert caught.value.status == 403
            assert f"Only job {job_id}'s own token may report for it" in str(caught.value)
        alice.cancel(job_id)
    with client(jobs_plaza, "bob") as bob, pytest.raises(JobsApiError) as caught:
        bob.report(job_id, [{"kind": "log", "data": {"line": "hello"}}])
    assert caught.value.status == 403


def stream_lines(server: PlazaServer, job_id: int, **headers: str) -> tuple[httpx.Response, list[str]]:
    auth = {"Authorization": f"Bearer {server.tokens['alice']}"}
    url = f"{server.url}/api/jobs/{job_id}/stream"
    with httpx.stream("GET", url, headers=auth | headers, timeout=30) as response:
        return response, list(response.iter_lines())


def test_the_stream_delivers_events_in_order_and_ends_at_the_final_state(jobs_plaza):
    with client(jobs_plaza, "alice") as jobs:
        job_id = jobs.submit(recipe_text())["id"]
        seen: list[dict] = []
        watcher = threading.Thread(target=lambda: seen.extend(jobs.stream(job_id)))
        watcher.start()
        with client(jobs_plaza, "alice") as other:
            other.cancel(job_id)
        watcher.join(timeout=30)
        assert not watcher.is_alive()
        assert [e["data"]["state"] for e in seen] == ["queued", "cancelled"]
        assert seen == jobs.events(job_id)

    response, lines = stream_lines(jobs_plaza, job_id)
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache" and response.headers["x-accel-buffering"] == "no"
    first, last = seen
    assert lines == [
        f"id: {first['id']}",
        "event: state",
        f"data: {json.dumps(first)}",
        "",
        f"id: {last['id']}",
        "event: state",
        f"data: {json.dumps(last)}",
        "",
    ]
    # A reconnecting watcher gets only what it has not seen, by query or by Last-Event-ID.
    with client(jobs_plaza, "alice") as jobs:
        assert list(jobs.stream(job_id, after=first["id"])) == [last]
    assert (
        stream_lines(jobs_plaza, job_id, **{"Last-Event-ID": str(first["id"])})[1][0] == f"id: {last['id']}"
    )
    assert stream_lines(jobs_plaza, job_id, **{"Last-Event-ID": "soon"})[0].status_code == 400


# --- the command line ---------------------------------------------------------------------------


def plaza_cli(server: PlazaServer, *args: str, user: str | None = "alice", url: str | None = None):
    env = {k: v for k, v in os.environ.items() if k not in ("HF_TOKEN", "PLAZA_URL")}
    env |= {"PLAZA_URL": url or server.url, "COLUMNS": "200"}
    if user:
        env["HF_TOKEN"] = server.tokens[user]
    return subprocess.run(
        [sys.executable, "-m", "modelplaza.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_submits_lists_shows_and_cancels(jobs_plaza, tmp_path):
    path = tmp_path / "digits.yaml"
    path.write_text(recipe_text())
    submitted = plaza_cli(jobs_plaza, "train", "submit", str(path))
    assert submitted.returncode == 0, submitted.stderr
    assert submitted.stdout.startswith("submitted job ")
    job_id = int(submitted.stdout.split()[2].rstrip(":"))
    assert submitted.stdout == (
        f"submitted job {job_id}: train cnn on alice/digits\nfollow it at {jobs_plaza.url}/jobs/{job_id}\n"
    )

    listed = plaza_cli(jobs_plaza, "jobs", "list", "--state", "queued")
    assert listed.returncode == 0
    row = next(line.split() for line in listed.stdout.splitlines() if line.split()[:1] == [str(job_id)])
    # alice's own jobs only: no owner column, the creation date next.
    assert row[1:6] == ["queued", "train", "cnn", "on", "alice/digits"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", row[6])

    shown = plaza_cli(jobs_plaza, "jobs", "show", str(job_id))
    assert shown.returncode == 0
    assert f"job:      {job_id}\n" in shown.stdout and "state:    queued\n" in shown.stdout
    assert "recipe:\n  data:\n    dataset: alice/digits\n" in shown.stdout

    cancelled = plaza_cli(jobs_plaza, "jobs", "cancel", str(job_id))
    assert (cancelled.returncode, cancelled.stdout) == (0, f"job {job_id} cancelled\n")
    logs = plaza_cli(jobs_plaza, "jobs", "logs", str(job_id))
    assert logs.stdout == "[queued]\n[cancelled] Cancelled by alice before it started\n"
    followed = plaza_cli(jobs_plaza, "jobs", "logs", str(job_id), "--follow")
    assert (followed.returncode, followed.stdout) == (0, logs.stdout)

    again = plaza_cli(jobs_plaza, "jobs", "cancel", str(job_id))
    # Nothing left to do is no failure: the job is where the user wanted it.
    assert (again.returncode, again.stdout) == (0, f"job {job_id} has already cancelled: nothing to cancel\n")


def test_cli_watch_follows_the_job_to_its_end_and_exits_with_its_outcome(jobs_plaza, tmp_path):
    path = tmp_path / "digits.json"
    path.write_text(json.dumps(RECIPE))
    env = {k: v for k, v in os.environ.items() if k != "PLAZA_URL"}
    watching = subprocess.Popen(
        [sys.executable, "-m", "modelplaza.cli.main", "train", "submit", str(path), "--watch"],
        env=env | {"HF_ENDPOINT": jobs_plaza.url, "HF_TOKEN": jobs_plaza.tokens["alice"]},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = watching.stdout.readline()
    job_id = int(first.split()[2].rstrip(":"))
    with client(jobs_plaza, "alice") as jobs:
        jobs.cancel(job_id)
    out, err = watching.communicate(timeout=60)
    assert watching.returncode == 1, err
    assert out.endswith(f"job {job_id} cancelled: Cancelled by alice before it started\n")
    assert "[cancelled] Cancelled by alice before it started" in out


def test_cli_watch_stops_on_ctrl_c_and_says_how_to_cancel(jobs_plaza, tmp_path):
    path = tmp_path / "digits.yaml"
    path.write_text(recipe_text())
    watching = subprocess.Popen(
        [sys.executable, "-m", "modelplaza.cli.main", "train", "submit", str(path), "--watch"],
        env=os.environ | {"PLAZA_URL": jobs_plaza.url, "HF_TOKEN": jobs_plaza.tokens["alice"]},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    job_id = int(watching.stdout.readline().split()[2].rstrip(":"))
    watching.stdout.readline()  # the job's page
    time.sleep(1)
    watching.send_signal(signal.SIGINT)
    _, err = watching.communicate(timeout=30)
    assert watching.returncode == 130
    assert err == f"stopped watching job {job_id}; it goes on. Cancel it with: plaza jobs cancel {job_id}\n"
    with client(jobs_plaza, "alice") as jobs:
        assert jobs.get(job_id)["state"] == "queued"
        jobs.cancel(job_id)


@pytest.mark.parametrize(
    ("args", "user", "error"),
    [
        (
            ["train", "submit", "RECIPE"],
            "alice",
            "error: optimizer.name: unknown optimiser 'adamx'; choose one of sgd, adagrad, rmsprop, adam, "
            "adamw; optimizer.lr: must be greater than 0, got -0.1",
        ),
        (["train", "submit", "/no/such/recipe.yaml"], "alice", "error: cannot read the recipe"),
        (["jobs", "list"], None, "error: Authentication required: send a token to see your jobs"),
        (["jobs", "show", "999999"], "alice", "error: Job 999999 not found"),
    ],
)
def test_cli_errors_are_one_line(jobs_plaza, tmp_path, args, user, error):
    path = tmp_path / "bad.yaml"
    path.write_text(recipe_text(optimizer={"name": "adamx", "lr": -0.1}))
    result = plaza_cli(jobs_plaza, *[str(path) if a == "RECIPE" else a for a in args], user=user)
    assert result.returncode == 1
    assert result.stderr.startswith(error) and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_cli_says_when_the_plaza_cannot_be_reached(jobs_plaza):
    url = f"http://127.0.0.1:{free_port()}"
    result = plaza_cli(jobs_plaza, "jobs", "list", url=url)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: Cannot reach the plaza at {url}: ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
