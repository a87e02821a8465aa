"""The model names a drafted recipe avoids: the visitor's model repos and the outputs of their
training jobs still to run or running, in their own namespace only."""

from __future__ import annotations

from modelplaza.jobs import queue
from modelplaza.train.draft import fresh_name
from modelplaza.train.submit import taken_model_names


def queue_training(hub, who, output: str) -> int:
    with hub.plaza.db.write() as session:
        spec = {"output": {"repo": output}}
        return queue.submit(session, who, "train", spec, "", f"train into {output}").id


def test_models_and_unfinished_jobs_outputs_are_taken(hub):
    alice, bob = hub.as_user("alice"), hub.as_user("bob")
    hub.create_repo(alice, "alice/digits-cnn", private=True)
    hub.create_repo(bob, "bob/digits-cnn-2")
    done = queue_training(hub, alice, "alice/digits-cnn-5")
    assert hub.claim("w1") == done
    hub.finish(done, queue.SUCCEEDED)  # over (its repo since deleted, say): free again
    running = queue_training(hub, alice, "alice/digits-cnn-4")
    assert hub.claim("w1") == running
    queue_training(hub, alice, "alice/digits-cnn-3")  # still queued
    queue_training(hub, bob, "bob/digits-cnn-6")
    with hub.plaza.db.read() as session:
        taken = taken_model_names(session, alice)
    assert taken == {"digits-cnn", "digits-cnn-3", "digits-cnn-4"}
    assert fresh_name("digits-cnn", taken) == "digits-cnn-2"
    assert fresh_name("digits-cnn", taken | {"Digits-CNN-2"}) == "digits-cnn-5"


def test_a_fresh_name_stays_within_the_name_limit():
    long = "d" * 92 + "-cnn"
    fresh = fresh_name(long, {long})
    assert fresh.endswith("-2") and len(fresh) == 96 and fresh != long
