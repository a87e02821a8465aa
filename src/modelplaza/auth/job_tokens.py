"""Job-scoped tokens: what a running job uses to read its inputs, write its output and report.
A token carries, signed, the repos its job's spec names (``JobRepos``, from the job's kind); it
has the job's owner's rights within that scope only (``permissions`` says what that allows)
and stops working as soon as the job has finished."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from modelplaza.auth.accounts import principal_for
from modelplaza.auth.principal import Authenticated, JobOutput, JobRepos, JobScope, RepoRef
from modelplaza.auth.signing import InvalidSignature, Signer
from modelplaza.db.models import Account, Job
from modelplaza.errors import InvalidCredentials

PREFIX = "plzjob_"
# Longer than any job should run; the token dies with the job's end anyway.
LIFETIME = 7 * 24 * 3600


def issue(signer: Signer, job: Job, repos: JobRepos) -> str:
    """A token for ``job`` that reaches the repos in ``repos`` and nothing else."""
    claims = {"job": job.id, "owner": job.owner_id, "use": "job", **_repo_claims(repos)}
    return PREFIX + signer.sign(claims, LIFETIME)


def is_job_token(token: str) -> bool:
    return token.startswith(PREFIX)


def authenticate(session: Session, signer: Signer, token: str) -> Authenticated:
    try:
        claims = signer.verify(token[len(PREFIX) :])
        repos = _repos(claims)
    except (InvalidSignature, KeyError, TypeError, ValueError):
        raise InvalidCredentials() from None
    job = session.get(Job, claims.get("job"))
    if (
        claims.get("use") != "job"
        or job is None
        or job.owner_id != claims.get("owner")
        or job.state != "running"
    ):
        raise InvalidCredentials()
    owner = principal_for(
        session, session.get_one(Account, job.owner_id), write=True, token_name=f"job {job.id}"
    )
    return replace(owner, job=JobScope(job.id, repos))


def _repo_claims(repos: JobRepos) -> dict[str, Any]:
    output = repos.output
    return {
        "reads": sorted([ref.type, ref.repo_id] for ref in repos.reads),
        "output": None
        if output is None
        else [output.repo.type, output.repo.repo_id, output.create, output.private],
    }


def _repos(claims: dict[str, Any]) -> JobRepos:
    """The scope a token's claims hold; a token without one (issued before jobs were scoped)
    reaches no repo."""
    reads = frozenset(RepoRef(str(kind), str(repo_id)) for kind, repo_id in claims.get("reads", []))
    output = claims.get("output")
    if output is None:
        return JobRepos(reads)
    kind, repo_id, create, private = output
    return JobRepos(reads, JobOutput(RepoRef(str(kind), str(repo_id)), bool(create), bool(private)))
