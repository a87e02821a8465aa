"""Job-scoped tokens: what a running job uses to read its inputs, write its outputs and report.
A token acts for the job's owner and stops working as soon as the job has finished."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session

from modelplaza.auth.accounts import principal_for
from modelplaza.auth.principal import Authenticated
from modelplaza.auth.signing import InvalidSignature, Signer
from modelplaza.db.models import Account, Job
from modelplaza.errors import InvalidCredentials

PREFIX = "plzjob_"
# Longer than any job should run; the token dies with the job's end anyway.
LIFETIME = 7 * 24 * 3600


def issue(signer: Signer, job: Job) -> str:
    return PREFIX + signer.sign({"job": job.id, "owner": job.owner_id, "use": "job"}, LIFETIME)


def is_job_token(token: str) -> bool:
    return token.startswith(PREFIX)


def authenticate(session: Session, signer: Signer, token: str) -> Authenticated:
    try:
        claims = signer.verify(token[len(PREFIX) :])
    except InvalidSignature:
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
    return replace(owner, job_id=job.id)
