"""The "Use this model / dataset" snippets: code people copy to fetch a repo from this plaza
with the usual clients, pointed at the plaza's own address."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from urllib.parse import quote

from modelplaza.db.models import Repo
from modelplaza.hub.refs import DEFAULT_BRANCH

# The file the single-file examples fetch: the first of these the repo has.
EXAMPLE_FILES = ("config.json", "README.md")
# Card tasks that are also transformers pipeline tasks; other models get the Auto classes.
PIPELINE_TASKS = {
    "audio-classification",
    "automatic-speech-recognition",
    "depth-estimation",
    "document-question-answering",
    "feature-extraction",
    "fill-mask",
    "image-classification",
    "image-feature-extraction",
    "image-segmentation",
    "image-text-to-text",
    "image-to-image",
    "image-to-text",
    "mask-generation",
    "object-detection",
    "question-answering",
    "summarization",
    "table-question-answering",
    "text-classification",
    "text-generation",
    "text-to-audio",
    "text2text-generation",
    "token-classification",
    "translation",
    "video-classification",
    "visual-question-answering",
    "zero-shot-audio-classification",
    "zero-shot-classification",
    "zero-shot-image-classification",
    "zero-shot-object-detection",
}


@dataclass(frozen=True)
class Snippet:
    label: str
    code: str


def _py(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def example_file(paths: list[str]) -> str | None:
    for name in EXAMPLE_FILES:
        if name in paths:
            return name
    return next((p for p in paths if not p.startswith(".")), paths[0] if paths else None)


def _with_endpoint(plaza_url: str, repo: Repo, library: str) -> str:
    code = f'import os\n\nos.environ["HF_ENDPOINT"] = {_py(plaza_url)}  # before importing {library}\n'
    if repo.private:
        code += 'os.environ["HF_TOKEN"] = "hf_..."  # an access token of yours: the repo is private\n'
    return code + "\n"


def _hub(plaza_url: str, repo: Repo, revision: str, example: str | None) -> Snippet:
    options = ', repo_type="dataset"' if repo.type == "dataset" else ""
    if revision != DEFAULT_BRANCH:
        options += f", revision={_py(revision)}"
    options += f", endpoint={_py(plaza_url)}"
    if repo.private:
        options += ", token=HF_TOKEN"
    repo_id = _py(repo.repo_id)
    imports = "hf_hub_download, snapshot_download" if example else "snapshot_download"
    code = f"from huggingface_hub import {imports}\n\n"
    if repo.private:
        code += 'HF_TOKEN = "hf_..."  # an access token of yours: the repo is private\n\n'
    code += f"# The whole repo, cached locally\nfolder = snapshot_download({repo_id}{options})\n"
    if example:
        code += f"# One file\npath = hf_hub_download({repo_id}, {_py(example)}{options})\n"
    return Snippet("huggingface_hub", code)


def _transformers(plaza_url: str, repo: Repo, revision: str, pipeline_tag: str | None) -> Snippet:
    args = _py(repo.repo_id) + (f", revision={_py(revision)}" if revision != DEFAULT_BRANCH else "")
    if pipeline_tag in PIPELINE_TASKS:
        body = f"from transformers import pipeline\n\npipe = pipeline({_py(pipeline_tag)}, model={args})\n"
    else:
        body = (
            "from transformers import AutoModel, AutoTokenizer\n\n"
            f"tokenizer = AutoTokenizer.from_pretrained({args})\n"
            f"model = AutoModel.from_pretrained({args})\n"
        )
    return Snippet("transformers", _with_endpoint(plaza_url, repo, "transformers") + body)


def _sentence_transformers(plaza_url: str, repo: Repo, revision: str) -> Snippet:
    args = _py(repo.repo_id) + (f", revision={_py(revision)}" if revision != DEFAULT_BRANCH else "")
    body = (
        "from sentence_transformers import SentenceTransformer\n\n"
        f"model = SentenceTransformer({args})\n"
        'embeddings = model.encode(["A first sentence", "Another one"])\n'
    )
    return Snippet("sentence-transformers", _with_endpoint(plaza_url, repo, "sentence_transformers") + body)


def _datasets(plaza_url: str, repo: Repo, revision: str) -> Snippet:
    args = _py(repo.repo_id) + (f", revision={_py(revision)}" if revision != DEFAULT_BRANCH else "")
    body = f"from datasets import load_dataset\n\nds = load_dataset({args})\n"
    return Snippet("datasets", _with_endpoint(plaza_url, repo, "datasets") + body)


def _curl(plaza_url: str, repo: Repo, revision: str, example: str) -> Snippet:
    prefix = "/datasets" if repo.type == "dataset" else ""
    url = f"{plaza_url}{prefix}/{repo.repo_id}/resolve/{quote(revision, safe='')}/{quote(example)}"
    auth = ' -H "Authorization: Bearer $HF_TOKEN"' if repo.private else ""
    return Snippet("curl", f"curl -L{auth} -o {shlex.quote(example.rsplit('/', 1)[-1])} {shlex.quote(url)}\n")


def use_snippets(
    plaza_url: str, repo: Repo, revision: str, paths: list[str], card_data: dict
) -> list[Snippet]:
    """Snippets for ``repo`` at ``revision``; ``paths`` are its files there and ``card_data``
    its card's metadata (which library and task the snippets use)."""
    pipeline_tag, library_name = card_data.get("pipeline_tag"), card_data.get("library_name")
    example = example_file(paths)
    found = [_hub(plaza_url, repo, revision, example)]
    if repo.type == "dataset":
        found.append(_datasets(plaza_url, repo, revision))
    elif library_name == "sentence-transformers":
        found.append(_sentence_transformers(plaza_url, repo, revision))
    elif library_name == "transformers" or "config.json" in paths:
        found.append(_transformers(plaza_url, repo, revision, pipeline_tag))
    if example:
        found.append(_curl(plaza_url, repo, revision, example))
    return found
