"""A running job's token against a real server: it reaches what its job's spec names (the
dataset it reads, the output repo it creates and writes, its own job's reports) and nothing else
its owner could reach. Any code a job runs holds this token, so each abuse below is one that
code could try.

The plaza runs no worker: a job is claimed and its token issued here exactly as a worker does
(``jobs.worker.claim``), on the server's own database and secret, and the token is then used
over HTTP like the job's process would use it."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from huggingface_hub import HfApi
from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

from modelplaza.config import Settings
from modelplaza.jobs import worker
from modelplaza.jobs.client import JobsApiError, JobsClient
from modelplaza.plaza import Plaza
from tests.plaza_server import PlazaServer, free_port, running_plaza

DATASET = "alice/table"


def recipe(output: str, *, private: bool = False) -> str:
    """A tiny training recipe reading alice's private dataset and writing ``output``."""
    return yaml.safe_dump(
        {
            "data": {"dataset": DATASET, "inputs": "x_*", "label": "y", "splits": {"ratios": {"train": 1}}},
            "model": {"type": "mlp"},
            "optimizer": {"name": "adam", "lr": 0.01},
            "loss": "cross_entropy",
            "training": {"epochs": 1},
            "output": {"repo": output, "private": private},
        }
    )


def parquet(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def server() -> Iterator[PlazaServer]:
    """alice's private dataset and private model, her public model, and the repo of the org
    acme she owns; bob's public model."""
    with running_plaza("job-tokens", free_port(), PLAZA_EMBEDDED_WORKER="0") as server:
        for user in ("alice", "bob"):
            server.cli("admin", "create-user", user, "--password", f"{user}-password")
            server.tokens[user] = server.token(user)
        server.cli("admin", "create-org", "acme", "--owner", "alice")
        alice = HfApi(endpoint=server.url, token=server.tokens["alice"])
        alice.create_repo(DATASET, repo_type="dataset", private=True)
        table = pa.table({"x_0": [0.0, 1.0] * 8, "x_1": [1.0, 0.0] * 8, "y": [0, 1] * 8})
        alice.upload_file(
            path_or_fileobj=parquet(table), path_in_repo="train.parquet", repo_id=DATASET, repo_type="dataset"
        )
        for repo_id, private in (("alice/notes", True), ("alice/public", False), ("acme/shared", False)):
            alice.create_repo(repo_id, private=private)
            alice.upload_file(path_or_fileobj=b"kept", path_in_repo="kept.txt", repo_id=repo_id)
        HfApi(endpoint=server.url, token=server.tokens["bob"]).create_repo("bob/public")
        yield server


@pytest.fixture(scope="module")
def plaza(server) -> Iterator[Plaza]:
    """The server's plaza, opened in this process as a worker opens it (same database, same
    data dir, hence the same signing secret)."""
    plaza = Plaza(Settings(data_dir=server.data_dir, database_url=server.env["PLAZA_DATABASE_URL"]))
    yield plaza
    plaza.close()


def alices(server: PlazaServer) -> JobsClient:
    return JobsClient(server.url, server.tokens["alice"])


def start_job(server: PlazaServer, plaza: Plaza, output: str, *, private: bool = False) -> tuple[int, str]:
    """One of alice's training jobs, submitted over HTTP and claimed as a worker claims it: its
    id and the token the job runs with."""
    with alices(server) as jobs:
        job_id = jobs.submit(recipe(output, private=private))["id"]
    claimed = worker.claim(plaza, "test-worker")
    assert claimed is not None and claimed[0] == job_id
    return claimed


def hub(server: PlazaServer, token: str) -> HfApi:
    return HfApi(endpoint=server.url, token=token)


def refused(call, status: int) -> str:
    """What the plaza says when it refuses ``call`` with ``status``."""
    with pytest.raises(HfHubHTTPError) as caught:
        call()
    assert caught.value.response.status_code == status, caught.value.response.text
    return caught.value.response.headers.get("X-Error-Message", "")


def test_the_job_reads_its_dataset_creates_and_writes_its_output_and_reports(server, plaza, tmp_path):
    job_id, token = start_job(server, plaza, "alice/trained")
    api = hub(server, token)
    assert {f.rfilename for f in api.repo_info(DATASET, repo_type="dataset").siblings} >= {"train.parquet"}
    path = api.hf_hub_download(DATASET, "train.parquet", repo_type="dataset", local_dir=tmp_path)
    assert pq.read_table(path).num_rows == 16
    api.create_repo("alice/trained", private=False, exist_ok=True)
    api.create_repo("alice/trained", private=False, exist_ok=True)  # as the job does: already there
    api.create_branch("alice/trained", branch="v2", exist_ok=True)
    commit = api.upload_file(path_or_fileobj=b"weights", path_in_repo="model.bin", repo_id="alice/trained")
    xet = httpx.get(
        f"{server.url}/api/models/alice/trained/xet-write-token/main",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert xet.status_code == 200 and xet.json()["accessToken"]
    with JobsClient(server.url, token) as own:
        own.report(job_id, [{"kind": "log", "data": {"line": "trained"}}])
        own.set_result(job_id, {"repo": "alice/trained", "commit": commit.oid})
        assert own.get(job_id)["result"]["repo"] == "alice/trained"
        assert "trained" in own.logs(job_id)
    assert hub(server, server.tokens["alice"]).model_info("alice/trained").sha == commit.oid


def test_the_job_cannot_delete_repos_or_change_their_visibility(server, plaza):
    _, token = start_job(server, plaza, "alice/deletable")
    api = hub(server, token)
    api.create_repo("alice/deletable", exist_ok=True)
    cannot = "A job's token cannot delete repos or change their settings"
    for repo_id in ("alice/public", "alice/deletable"):  # its own output included
        assert refused(lambda r=repo_id: api.delete_repo(r), 403) == cannot
        assert refused(lambda r=repo_id: api.update_repo_settings(r, private=True), 403) == cannot
    # A private repo its spec does not name is not there at all for the job.
    refused(lambda: api.update_repo_settings("alice/notes", private=False), 404)
    refused(lambda: api.delete_repo("alice/notes"), 404)
    owner = hub(server, server.tokens["alice"])
    assert owner.model_info("alice/notes").private is True
    assert owner.model_info("alice/public").private is False
    owner.model_info("alice/deletable")


def test_the_job_writes_no_repo_but_its_output(server, plaza):
    _, token = start_job(server, plaza, "alice/only-this")
    api = hub(server, token)
    for repo_id in ("acme/shared", "alice/public"):
        message = refused(
            lambda r=repo_id: api.upload_file(path_or_fileobj=b"planted", path_in_repo="x.txt", repo_id=r),
            403,
        )
        assert message == f"A job's token writes only to its output repo, not to {repo_id}"
        refused(lambda r=repo_id: api.create_branch(r, branch="planted"), 403)
    refused(lambda: api.create_repo("acme/new-model"), 403)
    refused(lambda: api.create_repo("alice/other-model"), 403)
    # Its output only as the spec says: public here, so not private (and the other way round).
    refused(lambda: api.create_repo("alice/only-this", private=True), 403)
    liked = httpx.post(
        f"{server.url}/api/models/bob/public/like", headers={"Authorization": f"Bearer {token}"}
    )
    assert (liked.status_code, liked.headers["X-Error-Message"]) == (403, "A job's token cannot like repos")
    files = {f.rfilename for f in hub(server, server.tokens["alice"]).model_info("acme/shared").siblings}
    assert "x.txt" not in files


def test_the_job_gets_xet_write_tokens_for_its_output_only(server, plaza):
    _, token = start_job(server, plaza, "alice/xet-output")
    hub(server, token).create_repo("alice/xet-output")
    auth = {"Authorization": f"Bearer {token}"}
    statuses = {
        repo_id: httpx.get(
            f"{server.url}/api/models/{repo_id}/xet-write-token/main", headers=auth
        ).status_code
        for repo_id in ("alice/xet-output", "alice/public", "acme/shared", "alice/notes", "bob/public")
    }
    assert statuses == {
        "alice/xet-output": 200,
        "alice/public": 403,
        "acme/shared": 403,
        "alice/notes": 404,
        "bob/public": 403,
    }


def test_the_job_reads_no_private_repo_its_spec_does_not_name(server, plaza, tmp_path):
    _, token = start_job(server, plaza, "alice/reader")
    api = hub(server, token)
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("alice/notes")
    with pytest.raises(RepositoryNotFoundError):
        api.hf_hub_download("alice/notes", "kept.txt", local_dir=tmp_path)
    auth = {"Authorization": f"Bearer {token}"}
    read_token = httpx.get(f"{server.url}/api/models/alice/notes/xet-read-token/main", headers=auth)
    assert read_token.status_code == 404
    # Lists hold what anyone sees: not the owner's private repos, not even the named dataset.
    listed = list(api.list_models(author="alice"))
    assert "alice/public" in {m.id for m in listed} and "alice/notes" not in {m.id for m in listed}
    assert not any(m.private for m in listed)
    assert [d.id for d in api.list_datasets(author="alice")] == []
    # Public repos stay readable, as they are without any token.
    assert api.model_info("bob/public").id == "bob/public"


def test_the_job_sees_no_other_job_and_starts_or_stops_none(server, plaza):
    job_id, token = start_job(server, plaza, "alice/watcher")
    with alices(server) as owner:
        other = owner.submit(recipe("alice/elsewhere"))["id"]
        try:
            with JobsClient(server.url, token) as job:
                for look in (job.get, job.logs, job.events, lambda i: list(job.stream(i))):
                    with pytest.raises(JobsApiError) as caught:
                        look(other)
                    assert caught.value.status == 404
                with pytest.raises(JobsApiError, match="sees its own job only"):
                    job.list()
                with pytest.raises(JobsApiError) as forged:
                    job.report(other, [{"kind": "log", "data": {"line": "forged"}}])
                assert forged.value.status == 403
                for act in (lambda: job.submit(recipe("alice/more")), lambda: job.cancel(job_id)):
                    with pytest.raises(JobsApiError, match="cannot submit or cancel jobs"):
                        act()
                with pytest.raises(JobsApiError) as cancel_other:
                    job.cancel(other)
                assert cancel_other.value.status == 404
                assert job.get(job_id)["state"] == "running"
            assert "forged" not in owner.logs(other)
        finally:
            owner.cancel(other)  # queued, so cancelled at once: the next test claims its own job
