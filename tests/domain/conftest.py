"""The domain tier: a whole plaza in this process, on a temporary SQLite data dir, with no server
and no HTTP. Tests speak through the few verbs of ``InProcessPlaza`` so that they read like the
rules they check, and a change of the domain's signatures is met in this one file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from modelplaza import gc
from modelplaza.auth import accounts, job_tokens
from modelplaza.auth.principal import ANONYMOUS, Principal
from modelplaza.config import Settings
from modelplaza.db.models import Blob, Job, ReceivedContent, Ref
from modelplaza.hub import commits, refs, repos, trees, uploads
from modelplaza.jobs import queue, worker
from modelplaza.plaza import Plaza

__all__ = ["ANONYMOUS", "InProcessPlaza", "training_spec"]


def training_spec(dataset: str, output: str, *, private: bool = False, **model: str) -> dict:
    """A training job's spec (a parsed recipe) reading ``dataset`` and writing ``output``."""
    return {
        "data": {"dataset": dataset, "inputs": "x_*", "label": "y"},
        "model": model or {"type": "mlp"},
        "optimizer": {"name": "adam", "lr": 0.01},
        "loss": "cross_entropy",
        "training": {"epochs": 1},
        "output": {"repo": output, "private": private},
    }


@dataclass
class InProcessPlaza:
    plaza: Plaza

    # --- accounts and credentials -------------------------------------------------------------

    def add_user(self, name: str, *, admin: bool = False) -> None:
        with self.plaza.db.write() as session:
            accounts.create_user(session, name, is_admin=admin)

    def add_org(self, name: str, owner: str, **members: str) -> None:
        """An organisation owned by ``owner``, with ``members`` given as name=role."""
        with self.plaza.db.write() as session:
            accounts.create_org(session, name, owner)
            for user, role in members.items():
                accounts.set_member(session, name, user, role)

    def new_token(self, user: str, *, write: bool = True) -> str:
        with self.plaza.db.write() as session:
            return accounts.create_token(session, user, "domain test", write=write)

    def principal(self, token: str) -> Principal:
        """Who a token stands for: an API token or a job's own token."""
        with self.plaza.db.read() as session:
            if job_tokens.is_job_token(token):
                return job_tokens.authenticate(session, self.plaza.signer, token)
            return accounts.authenticate_token(session, token)

    def as_user(self, user: str, *, write: bool = True) -> Principal:
        return self.principal(self.new_token(user, write=write))

    def revoke_tokens(self, user: str) -> None:
        with self.plaza.db.write() as session:
            account = accounts.get_user(session, user)
            for token in accounts.list_tokens(session, account.id):
                accounts.revoke_token(session, account.id, token.id)

    # --- repositories ---------------------------------------------------------------------------

    def create_repo(
        self, who: Principal, repo_id: str, *, private: bool = False, repo_type: str = "model"
    ) -> None:
        namespace, name = repo_id.split("/")
        gitattributes = commits.default_gitattributes(self.plaza.blobs)
        with self.plaza.db.write() as session:
            repos.create_repo(
                session, who, repo_type, namespace, name, private=private, gitattributes=gitattributes
            )

    def delete_repo(self, who: Principal, repo_id: str) -> None:
        with self.plaza.db.write() as session:
            repos.delete_repo(session, repos.get_administrable(session, who, "model", *repo_id.split("/")))

    def set_private(self, who: Principal, repo_id: str, private: bool) -> None:
        with self.plaza.db.write() as session:
            repo = repos.get_administrable(session, who, "model", *repo_id.split("/"))
            repos.update_settings(repo, private=private)

    def commit(
        self,
        who: Principal,
        repo_id: str,
        files: dict[str, bytes] | None = None,
        *,
        delete: tuple[str, ...] = (),
        branch: str = "main",
        parent: str | None = None,
        title: str = "an edit",
    ) -> str:
        """Put ``files`` and delete paths on ``branch`` in one commit; its id."""
        operations: list[commits.Operation] = [
            commits.PutFile(path, commits.regular_file(self.plaza.blobs, data))
            for path, data in (files or {}).items()
        ]
        operations += [commits.DeletePath(path) for path in delete]
        with self.plaza.db.read() as session:
            repos.get_writable(session, who, "model", *repo_id.split("/"))
        return self._commit(who, repo_id, operations, branch=branch, parent=parent, title=title)

    def commit_by_oid(
        self, who: Principal, repo_id: str, path: str, sha256: str, size: int | None = None
    ) -> str:
        """Commit, as the API's ``lfsFile`` operation does, content named only by its sha256."""
        with self.plaza.db.read() as session:
            repo = repos.get_writable(session, who, "model", *repo_id.split("/"))
            entry = uploads.committable_lfs_file(session, self.plaza.contents, who, repo, sha256, size)
        return self._commit(who, repo_id, [commits.PutFile(path, entry)], title=f"add {path}")

    def send_bytes(self, who: Principal, repo_id: str, data: bytes) -> str:
        """Send content to a repo ahead of a commit, as an LFS upload does; its sha256."""
        with self.plaza.db.read() as session:
            repo = repos.get_writable(session, who, "model", *repo_id.split("/"))
        info = self.plaza.blobs.put_bytes(data)
        with self.plaza.db.write() as session:
            uploads.register_upload(session, repo.id, info)
        return info.sha256

    def may_skip_upload(self, who: Principal, repo_id: str, sha256: str, size: int) -> bool:
        """Whether the LFS batch would let ``who`` skip sending this content to the repo."""
        with self.plaza.db.read() as session:
            repo = repos.get_writable(session, who, "model", *repo_id.split("/"))
            return uploads.may_reuse(session, self.plaza.contents, who, repo, sha256, size)

    def make_private(self, who: Principal, repo_id: str) -> None:
        with self.plaza.db.write() as session:
            repos.update_settings(
                repos.get_administrable(session, who, "model", *repo_id.split("/")), private=True
            )

    def _commit(
        self,
        who: Principal,
        repo_id: str,
        operations: list[commits.Operation],
        *,
        branch: str = "main",
        parent: str | None = None,
        title: str,
    ) -> str:
        with self.plaza.db.read() as session:
            card = commits.readme_card(session, self.plaza.contents, operations)
        with self.plaza.db.write() as session:
            repo = repos.get_writable(session, who, "model", *repo_id.split("/"))
            commit = commits.create_commit(
                session,
                repo,
                branch,
                operations,
                title=title,
                author=who.name or "",
                parent=parent,
                card=card,
            )
            return commit.id

    def tag(self, who: Principal, repo_id: str, tag: str, revision: str) -> None:
        with self.plaza.db.write() as session:
            repo = repos.get_writable(session, who, "model", *repo_id.split("/"))
            refs.create_tag(session, repo, tag, revision, None)

    def branch(self, who: Principal, repo_id: str, name: str, starting_point: str | None = None) -> None:
        with self.plaza.db.write() as session:
            repo = repos.get_writable(session, who, "model", *repo_id.split("/"))
            refs.create_branch(session, repo, name, starting_point)

    def resolve(
        self, who: Principal, repo_id: str, revision: str | None = None, *, repo_type: str = "model"
    ) -> str:
        with self.plaza.db.read() as session:
            return refs.resolve(session, self._readable(session, who, repo_id, repo_type), revision)

    def files(self, who: Principal, repo_id: str, revision: str | None = None) -> dict[str, bytes]:
        """Every file of the repo at ``revision`` and its bytes."""
        with self.plaza.db.read() as session:
            commit = refs.resolve(session, self._readable(session, who, repo_id), revision)
            return {
                path: self.plaza.contents.read_bytes(session, entry.sha256)
                for path, entry in trees.load_files(session, commit).items()
            }

    def running_job(self, who: Principal, spec: dict) -> tuple[int, Principal]:
        """A job of ``who``'s with ``spec``, claimed by a worker: its id, and the principal its
        token stands for."""
        job = self.submit_job(who, spec=spec)
        assert self.claim("worker") == job
        return job, self.principal(self.job_token(job))

    def visible_repos(self, who: Principal, author: str | None = None) -> set[str]:
        """The ids of the model repos ``who`` sees (in ``author``'s namespace only, if given)."""
        query = repos.RepoQuery("model", author=author)
        with self.plaza.db.read() as session:
            return {repo.repo_id for repo in repos.list_repos(session, who, query)}

    def repo_id(self, who: Principal, repo_id: str) -> str:
        """The id of the repo ``repo_id`` names, as the repo spells it."""
        with self.plaza.db.read() as session:
            return self._readable(session, who, repo_id).repo_id

    def old_ref(self, repo_id: str, kind: str, name: str, commit_id: str) -> None:
        """A branch or tag as a plaza of an older release may hold it: stored as it is, with
        none of today's checks on its name."""
        with self.plaza.db.write() as session:
            repo = repos.get_readable(session, ANONYMOUS, "model", *repo_id.split("/"))
            session.add(Ref(repo_id=repo.id, kind=kind, name=name, commit_id=commit_id))

    def _readable(self, session, who: Principal, repo_id: str, repo_type: str = "model"):
        return repos.get_readable(session, who, repo_type, *repo_id.split("/"))

    # --- garbage collection -----------------------------------------------------------------

    def collect_garbage(self, grace: timedelta) -> None:
        """What ``plaza admin gc --grace-hours`` does, keeping anything younger than ``grace``."""
        cutoff = datetime.now(UTC) - grace
        listing = gc.list_stores(self.plaza.blobs, self.plaza.xorbs, cutoff, dry_run=False)
        with self.plaza.db.write() as session:
            report = gc.collect(session, listing, cutoff=cutoff, dry_run=False)
        gc.remove_files(report, self.plaza.blobs, self.plaza.xorbs)

    def stored(self, sha256: str) -> bool:
        return self.plaza.blobs.exists(sha256)

    def backdate(self, sha256: str, by: timedelta, *, received: bool = False) -> None:
        """Make the content look stored ``by`` ago (with ``received``: sent to repos ``by`` ago)."""
        with self.plaza.db.write() as session:
            if received:
                rows = session.scalars(select(ReceivedContent).where(ReceivedContent.sha256 == sha256))
                for row in rows:
                    row.received_at -= by
            else:
                session.get_one(Blob, sha256).created_at -= by

    # --- jobs -----------------------------------------------------------------------------------

    def submit_job(self, who: Principal, title: str = "a job", spec: dict | None = None) -> int:
        """A training job; its ``spec`` (a recipe as parsed) names the repos its token reaches."""
        with self.plaza.db.write() as session:
            return queue.submit(session, who, "train", spec or {}, "", title).id

    def claim(self, worker: str) -> int | None:
        with self.plaza.db.write() as session:
            job = queue.claim_next(session, worker)
            return None if job is None else job.id

    def cancel(self, who: Principal, job_id: int) -> None:
        with self.plaza.db.write() as session:
            queue.request_cancel(session, who, queue.get_visible(session, who, job_id))

    def finish(self, job_id: int, state: str) -> None:
        with self.plaza.db.write() as session:
            queue.finish(session, session.get(Job, job_id), state)

    def job(self, who: Principal, job_id: int) -> Job:
        with self.plaza.db.read() as session:
            return queue.get_visible(session, who, job_id)

    def job_token(self, job_id: int) -> str:
        """The token a worker starts the job with."""
        with self.plaza.db.read() as session:
            return worker.job_token(self.plaza.signer, session.get_one(Job, job_id))


@pytest.fixture
def hub(tmp_path) -> Iterator[InProcessPlaza]:
    """A migrated plaza with three users: alice, bob and the site admin root."""
    settings = Settings(
        data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'plaza.db'}", secret_key="k" * 32
    )
    plaza = Plaza(settings).migrate()
    in_process = InProcessPlaza(plaza)
    for user in ("alice", "bob"):
        in_process.add_user(user)
    in_process.add_user("root", admin=True)
    yield in_process
    plaza.close()
