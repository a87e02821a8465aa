"""Stored content is shared by every repo that holds it, but knowing its sha256 gives nothing:
a writer commits content without sending its bytes only if a repo they may read holds it, or
its bytes were sent to the very repo they commit to (``permissions.may_reuse_content``)."""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta

import pytest

from modelplaza.errors import BadRequest

SECRET = os.urandom(2000)
SECRET_SHA = hashlib.sha256(SECRET).hexdigest()


@pytest.fixture
def secret(hub):
    """alice's private repo, holding SECRET (sent through an upload, as a client does)."""
    alice = hub.as_user("alice")
    hub.create_repo(alice, "alice/secret", private=True)
    hub.send_bytes(alice, "alice/secret", SECRET)
    hub.commit_by_oid(alice, "alice/secret", "weights.bin", SECRET_SHA)
    return hub


def _refusal(hub, who, repo_id: str, sha256: str) -> str:
    with pytest.raises(BadRequest) as refused:
        hub.commit_by_oid(who, repo_id, "stolen.bin", sha256)
    return refused.value.message.replace(sha256, "<oid>")


def test_an_outsider_knowing_the_sha256_cannot_commit_it(secret):
    bob = secret.as_user("bob")
    secret.create_repo(bob, "bob/mine")
    assert not secret.may_skip_upload(bob, "bob/mine", SECRET_SHA, len(SECRET))
    held_elsewhere = _refusal(secret, bob, "bob/mine", SECRET_SHA)
    held_nowhere = _refusal(secret, bob, "bob/mine", hashlib.sha256(b"stored nowhere").hexdigest())
    # The same words either way: the refusal tells nothing about what is stored.
    assert held_elsewhere == held_nowhere
    assert "never uploaded" in held_elsewhere
    assert set(secret.files(bob, "bob/mine")) == {".gitattributes"}


def test_sending_the_bytes_lets_an_outsider_commit_them(secret):
    bob = secret.as_user("bob")
    secret.create_repo(bob, "bob/mine")
    secret.send_bytes(bob, "bob/mine", SECRET)
    assert secret.may_skip_upload(bob, "bob/mine", SECRET_SHA, len(SECRET))
    secret.commit_by_oid(bob, "bob/mine", "weights.bin", SECRET_SHA)
    assert secret.files(bob, "bob/mine")["weights.bin"] == SECRET


def test_bytes_sent_to_one_repo_count_for_that_repo_only(secret):
    bob = secret.as_user("bob")
    secret.create_repo(bob, "bob/first")
    secret.create_repo(bob, "bob/second")
    secret.send_bytes(bob, "bob/first", SECRET)
    assert not secret.may_skip_upload(bob, "bob/second", SECRET_SHA, len(SECRET))
    with pytest.raises(BadRequest):
        secret.commit_by_oid(bob, "bob/second", "weights.bin", SECRET_SHA)


def test_the_owner_reuses_her_content_in_another_repo_without_sending_it(secret):
    alice = secret.as_user("alice")
    secret.create_repo(alice, "alice/copy")
    assert secret.may_skip_upload(alice, "alice/copy", SECRET_SHA, len(SECRET))
    secret.commit_by_oid(alice, "alice/copy", "same.bin", SECRET_SHA)
    assert secret.files(alice, "alice/copy")["same.bin"] == SECRET


def test_a_wrong_size_is_never_reused(secret):
    alice = secret.as_user("alice")
    assert not secret.may_skip_upload(alice, "alice/secret", SECRET_SHA, len(SECRET) + 1)
    with pytest.raises(BadRequest, match=f"has {len(SECRET)} bytes"):
        secret.commit_by_oid(alice, "alice/secret", "again.bin", SECRET_SHA, len(SECRET) + 1)


def test_content_of_a_public_repo_is_anyone_s_to_reuse(hub):
    alice, bob = hub.as_user("alice"), hub.as_user("bob")
    hub.create_repo(alice, "alice/open")
    data = os.urandom(500)
    sha256 = hub.send_bytes(alice, "alice/open", data)
    hub.commit_by_oid(alice, "alice/open", "w.bin", sha256)
    hub.create_repo(bob, "bob/fork")
    hub.create_repo(bob, "bob/later")
    hub.commit_by_oid(bob, "bob/fork", "w.bin", sha256)
    assert hub.may_skip_upload(bob, "bob/later", sha256, len(data))
    # Once no repo bob may read holds it, the content is no longer his to name.
    hub.make_private(alice, "alice/open")
    hub.delete_repo(bob, "bob/fork")
    assert not hub.may_skip_upload(bob, "bob/later", sha256, len(data))
    with pytest.raises(BadRequest):
        hub.commit_by_oid(bob, "bob/later", "w.bin", sha256)


def test_org_readers_reuse_the_org_s_private_content(secret):
    secret.add_user("carol")
    secret.add_org("acme", "alice", carol="read")
    alice = secret.as_user("alice")
    secret.create_repo(alice, "acme/private", private=True)
    secret.commit_by_oid(alice, "acme/private", "w.bin", SECRET_SHA)
    carol = secret.as_user("carol")
    secret.create_repo(carol, "carol/mine")
    secret.commit_by_oid(carol, "carol/mine", "w.bin", SECRET_SHA)
    assert secret.files(carol, "carol/mine")["w.bin"] == SECRET


def test_gc_keeps_content_lately_sent_to_a_repo_though_nothing_holds_it(secret):
    alice, bob = secret.as_user("alice"), secret.as_user("bob")
    secret.backdate(SECRET_SHA, timedelta(days=2))  # stored long before bob sends it again
    secret.create_repo(bob, "bob/mine")
    secret.send_bytes(bob, "bob/mine", SECRET)
    secret.delete_repo(alice, "alice/secret")
    secret.collect_garbage(grace=timedelta(hours=1))
    assert secret.stored(SECRET_SHA)
    secret.commit_by_oid(bob, "bob/mine", "weights.bin", SECRET_SHA)
    assert secret.files(bob, "bob/mine")["weights.bin"] == SECRET


def test_gc_frees_content_sent_long_ago_and_never_committed(secret):
    alice, bob = secret.as_user("alice"), secret.as_user("bob")
    secret.create_repo(bob, "bob/mine")
    secret.send_bytes(bob, "bob/mine", SECRET)
    secret.delete_repo(alice, "alice/secret")
    secret.backdate(SECRET_SHA, timedelta(days=2))
    secret.backdate(SECRET_SHA, timedelta(days=2), received=True)
    secret.collect_garbage(grace=timedelta(hours=1))
    assert not secret.stored(SECRET_SHA)
    with pytest.raises(BadRequest):
        secret.commit_by_oid(bob, "bob/mine", "weights.bin", SECRET_SHA)
