"""datasets pushes and loads dataset repos through the plaza, unchanged: only ``HF_ENDPOINT``
(set by the conftest) points it here. Every load uses a fresh cache so the plaza is really hit."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from datasets import Dataset, DatasetDict, load_dataset
from datasets.exceptions import DatasetNotFoundError
from huggingface_hub import hf_hub_download

TRAIN = {"text": ["a plaza", "of models", "and datasets"], "label": [0, 1, 1]}
TEST = {"text": ["held out", "rows"], "label": [1, 0]}


def load(repo_id: str, token: str, cache, **kwargs) -> Dataset:
    return load_dataset(
        repo_id, token=token, cache_dir=str(cache), download_mode="force_redownload", **kwargs
    )


def front_matter(path: str) -> dict:
    text = Path(path).read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def test_push_to_hub_with_splits_then_load_a_split(api, repo_name, tmp_path, no_xet):
    repo_id = f"alice/{repo_name}"
    splits = DatasetDict({"train": Dataset.from_dict(TRAIN), "test": Dataset.from_dict(TEST)})
    splits.push_to_hub(repo_id, token=api.token)  # creates the dataset repo

    files = api.list_repo_files(repo_id, repo_type="dataset")
    shards = [f for f in files if f.endswith(".parquet")]
    assert sorted(f.split("/")[1].split("-")[0] for f in shards) == ["test", "train"]
    for shard in api.get_paths_info(repo_id, shards, repo_type="dataset"):
        assert shard.lfs is not None  # parquet shards went through LFS, not inline

    test = load(repo_id, api.token, tmp_path / "c", split="test")
    assert test.to_dict() == TEST
    assert load(repo_id, api.token, tmp_path / "c", split="train").to_dict() == TRAIN

    readme = hf_hub_download(repo_id, "README.md", repo_type="dataset", token=api.token, cache_dir=tmp_path)
    meta = front_matter(readme)
    assert {s["split"] for s in meta["configs"][0]["data_files"]} == {"train", "test"}
    assert {s["name"]: s["num_examples"] for s in meta["dataset_info"]["splits"]} == {"train": 3, "test": 2}
    card = api.dataset_info(repo_id).card_data
    assert card["configs"] == meta["configs"] and card["dataset_info"] == meta["dataset_info"]


def test_load_a_repo_of_csv_files(api, repo_name, tmp_path):
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id, repo_type="dataset")
    for split, rows in (("train", TRAIN), ("test", TEST)):
        csv = "text,label\n" + "".join(f"{t},{n}\n" for t, n in zip(rows["text"], rows["label"], strict=True))
        api.upload_file(
            path_or_fileobj=csv.encode(),
            path_in_repo=f"data/{split}.csv",
            repo_id=repo_id,
            repo_type="dataset",
        )

    assert load(repo_id, api.token, tmp_path / "c", split="train").to_dict() == TRAIN
    assert load(repo_id, api.token, tmp_path / "c", split="test").to_dict() == TEST
    both = load(repo_id, api.token, tmp_path / "d")
    assert set(both) == {"train", "test"} and both["test"].num_rows == 2


def test_load_a_repo_of_parquet_files(api, repo_name, tmp_path, no_xet):
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id, repo_type="dataset")
    folder = tmp_path / "repo"
    (folder / "data").mkdir(parents=True)
    for split, rows in (("train", TRAIN), ("validation", TEST)):
        pq.write_table(pa.table(rows), folder / "data" / f"{split}-00000-of-00001.parquet")
    api.upload_folder(repo_id=repo_id, folder_path=folder, repo_type="dataset")

    validation = load(repo_id, api.token, tmp_path / "c", split="validation")
    assert validation.to_dict() == TEST
    assert load(repo_id, api.token, tmp_path / "c", split="train").to_dict() == TRAIN
    with pytest.raises(ValueError, match="Unknown split"):
        load(repo_id, api.token, tmp_path / "c", split="test")


def test_push_twice_and_to_a_branch(api, repo_name, tmp_path, no_xet):
    repo_id = f"alice/{repo_name}"
    Dataset.from_dict(TRAIN).push_to_hub(repo_id, token=api.token)
    first = api.dataset_info(repo_id).sha
    # The second push names the head it read as parentCommit; the plaza must accept it.
    bigger = {"text": TRAIN["text"] * 2, "label": TRAIN["label"] * 2}
    Dataset.from_dict(bigger).push_to_hub(repo_id, token=api.token, commit_message="More rows")
    commits = api.list_repo_commits(repo_id, repo_type="dataset")
    assert commits[0].title == "More rows" and commits[1].commit_id == first
    assert load(repo_id, api.token, tmp_path / "c", split="train").to_dict() == bigger
    shards = [f for f in api.list_repo_files(repo_id, repo_type="dataset") if f.endswith(".parquet")]
    assert len(shards) == 1  # the old shard was replaced, not kept beside the new one

    Dataset.from_dict(TEST).push_to_hub(repo_id, token=api.token, revision="dev")
    assert "dev" in [b.name for b in api.list_repo_refs(repo_id, repo_type="dataset").branches]
    assert load(repo_id, api.token, tmp_path / "d", split="train", revision="dev").to_dict() == TEST
    assert load(repo_id, api.token, tmp_path / "e", split="train").to_dict() == bigger


def test_private_dataset_needs_a_token_that_may_read_it(plaza, api, repo_name, tmp_path, no_xet):
    repo_id = f"alice/{repo_name}"
    Dataset.from_dict(TRAIN).push_to_hub(repo_id, token=api.token, private=True)
    assert api.dataset_info(repo_id).private
    # Outsiders first: once README.md sits in the shared hub cache, datasets would reuse it.
    for token in (None, plaza.tokens["bob"]):
        with pytest.raises(DatasetNotFoundError):
            load(repo_id, token, tmp_path / "d", split="train")
    rows = load(repo_id, plaza.tokens["alice-read"], tmp_path / "c", split="train")
    assert rows.to_dict() == TRAIN


def test_parquet_upload_from_a_buffer_and_load_is_quick(api, repo_name, tmp_path):
    """With Xet left on, a file-like buffer still goes through LFS; and load_dataset's attempt to
    reach ``datasets-server.<host>`` fails fast instead of stalling every load."""
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id, repo_type="dataset")
    buffer = io.BytesIO()
    pq.write_table(pa.table(TRAIN), buffer)
    buffer.seek(0)
    api.upload_file(
        path_or_fileobj=buffer, path_in_repo="train.parquet", repo_id=repo_id, repo_type="dataset"
    )
    started = time.monotonic()
    assert load(repo_id, api.token, tmp_path / "c", split="train").to_dict() == TRAIN
    assert time.monotonic() - started < 15
