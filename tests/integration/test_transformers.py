"""transformers loads and pushes models and tokenizers through the plaza, unchanged: only
``HF_ENDPOINT`` (set by the conftest) points it here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from huggingface_hub import snapshot_download
from transformers import AutoConfig, AutoModel, AutoTokenizer, BertModel, BertTokenizer

from tests.integration.model_helpers import same_weights, tiny_model

WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "plaza", "world", "models", "live", "here"]
TEXT = "Hello plaza, models live here"


def tiny_tokenizer() -> BertTokenizer:
    return BertTokenizer(vocab={word: i for i, word in enumerate(WORDS)})


def save(model: BertModel, tokenizer: BertTokenizer, folder: Path) -> Path:
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_from_pretrained_loads_the_tagged_weights(api, repo_name, tmp_path, no_xet):
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id)
    first, second, tokenizer = tiny_model(1), tiny_model(2), tiny_tokenizer()
    api.upload_folder(repo_id=repo_id, folder_path=save(first, tokenizer, tmp_path / "v1"))
    api.create_tag(repo_id, tag="v1.0")
    second.save_pretrained(tmp_path / "v2")
    api.upload_folder(repo_id=repo_id, folder_path=tmp_path / "v2", commit_message="Retrain")
    assert "model.safetensors" in api.list_repo_files(repo_id, revision="v1.0")
    token = api.token

    tagged = AutoModel.from_pretrained(repo_id, revision="v1.0", token=token, cache_dir=tmp_path / "c1")
    latest = AutoModel.from_pretrained(repo_id, token=token, cache_dir=tmp_path / "c2")
    assert same_weights(tagged, first) and not same_weights(tagged, second)
    assert same_weights(latest, second)

    remote = AutoTokenizer.from_pretrained(repo_id, revision="v1.0", token=token, cache_dir=tmp_path / "c3")
    assert remote(TEXT)["input_ids"] == tokenizer(TEXT)["input_ids"]
    assert remote.tokenize(TEXT) == ["hello", "plaza", "[UNK]", "models", "live", "here"]
    with torch.no_grad():
        inputs = remote(TEXT, return_tensors="pt")
        assert torch.equal(tagged(**inputs).last_hidden_state, first(**inputs).last_hidden_state)


def test_push_to_hub_then_from_pretrained(plaza, api, repo_name, tmp_path, no_xet):
    repo_id = f"alice/{repo_name}"
    token = api.token
    model, tokenizer = tiny_model(3), tiny_tokenizer()
    model.push_to_hub(repo_id, token=token)  # creates the repo
    tokenizer.push_to_hub(repo_id, token=token)
    files = set(api.list_repo_files(repo_id))
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} <= files
    weights = api.get_paths_info(repo_id, ["model.safetensors"])[0]
    assert weights.lfs is not None and weights.lfs.size == weights.size

    loaded = AutoModel.from_pretrained(repo_id, token=token, cache_dir=tmp_path / "c")
    assert same_weights(loaded, model)
    remote = AutoTokenizer.from_pretrained(repo_id, token=token, cache_dir=tmp_path / "c")
    assert remote(TEXT)["input_ids"] == tokenizer(TEXT)["input_ids"]

    # A second push of changed weights is a new commit on top; the first stays reachable.
    first_commit = api.repo_info(repo_id).sha
    retrained = tiny_model(4)
    retrained.push_to_hub(repo_id, token=token, commit_message="Retrain")
    assert len(api.list_repo_commits(repo_id)) == 4  # initial, model, tokenizer, retrain
    old = AutoModel.from_pretrained(repo_id, revision=first_commit, token=token, cache_dir=tmp_path / "d")
    new = AutoModel.from_pretrained(repo_id, token=token, cache_dir=tmp_path / "d")
    assert same_weights(old, model) and same_weights(new, retrained)


def test_private_model_loads_only_with_a_token_that_may_read_it(plaza, api, repo_name, tmp_path, no_xet):
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id, private=True)
    model, tokenizer = tiny_model(5), tiny_tokenizer()
    api.upload_folder(repo_id=repo_id, folder_path=save(model, tokenizer, tmp_path / "m"))

    # The owner (even with a read-only token) and a plaza admin may read.
    for user in ("alice-read", "root"):
        token = plaza.tokens[user]
        loaded = AutoModel.from_pretrained(repo_id, token=token, cache_dir=tmp_path / user)
        assert same_weights(loaded, model)
        remote = AutoTokenizer.from_pretrained(repo_id, token=token, cache_dir=tmp_path / user)
        assert remote.tokenize(TEXT) == tokenizer.tokenize(TEXT)

    for token in (None, plaza.tokens["bob"]):
        cache = tmp_path / f"outsider-{token is None}"
        with pytest.raises(OSError, match="not a valid model identifier|private or gated"):
            AutoModel.from_pretrained(repo_id, token=token, cache_dir=cache)
        with pytest.raises(OSError, match="not a valid model identifier|private or gated"):
            AutoTokenizer.from_pretrained(repo_id, token=token, cache_dir=cache)
        with pytest.raises(OSError):
            AutoConfig.from_pretrained(repo_id, token=token, cache_dir=cache)


def test_upload_folder_of_small_files_with_xet_enabled(api, repo_name, tmp_path):
    """The client as users have it: hf_xet installed, Xet not disabled. Text and JSON files are
    all "regular", so the streamed upload pipeline sends them inline and needs no Xet."""
    repo_id = f"alice/{repo_name}"
    api.create_repo(repo_id)
    folder = tmp_path / "folder"
    tiny_tokenizer().save_pretrained(folder)
    tiny_model(6).config.save_pretrained(folder)
    (folder / "README.md").write_text("---\nlicense: mit\ntags:\n- tiny\n---\n# Tiny\n")
    (folder / "notes").mkdir()
    for i in range(30):
        (folder / "notes" / f"note-{i:02}.json").write_text(json.dumps({"i": i, "text": "x" * i}))
    api.upload_folder(repo_id=repo_id, folder_path=folder)

    local = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert set(api.list_repo_files(repo_id)) == local | {".gitattributes"}
    assert all(f.lfs is None for f in api.list_repo_tree(repo_id, recursive=True) if hasattr(f, "lfs"))
    info = api.model_info(repo_id)
    assert info.card_data["license"] == "mit" and "tiny" in info.tags

    download = Path(snapshot_download(repo_id, token=api.token, cache_dir=tmp_path / "c"))
    for name in local:
        assert (download / name).read_bytes() == (folder / name).read_bytes()
    remote = AutoTokenizer.from_pretrained(repo_id, token=api.token, cache_dir=tmp_path / "c")
    assert remote(TEXT)["input_ids"] == tiny_tokenizer()(TEXT)["input_ids"]
    assert AutoConfig.from_pretrained(repo_id, token=api.token, cache_dir=tmp_path / "c").hidden_size == 32

    # Uploading the same folder again changes nothing: preupload's oids let the client skip it all.
    head = api.repo_info(repo_id).sha
    api.upload_folder(repo_id=repo_id, folder_path=folder)
    assert api.repo_info(repo_id).sha == head


def test_push_to_hub_of_weights_with_xet_enabled(api, repo_name, tmp_path):
    repo_id = f"alice/{repo_name}"
    model = tiny_model(7)
    model.push_to_hub(repo_id, token=api.token)
    assert same_weights(AutoModel.from_pretrained(repo_id, token=api.token, cache_dir=tmp_path), model)
