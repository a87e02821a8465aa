"""A card whose YAML front matter is broken is refused with one plain line that names the line
of README.md (as an editor numbers it), what it says and what is wrong: from the API, from
validate-yaml, and in the web card editor's preview and save."""

from __future__ import annotations

import html

import httpx
import pytest
from huggingface_hub import HfApi

from tests.integration.test_hf_api import inline, raw_commit
from tests.integration.test_web_accounts import browser, csrf, log_in

# Line 4 of the file (line 3 of the YAML) holds the mistake; a note and a blank line come first,
# as front matter may follow them.
BROKEN = "\n---\nlicense: mit\ntitle: Models: a survey\n---\n# Card\n"
PLAIN = "Invalid metadata in README.md at line 4 ('title: Models: a survey'): a value contains ': '"
UNCLOSED = "---\nlicense: mit\ntags: [a, b\npipeline_tag: fill-mask\n---\n"
UNCLOSED_PLAIN = (
    "Invalid metadata in README.md at line 4 ('pipeline_tag: fill-mask'): a list opened with '[' is not "
    "closed with ']'; see the list that opens at line 3 ('tags: [a, b')"
)


def assert_plain(message: str, expected: str) -> None:
    assert message.startswith(expected)
    assert "<unicode string>" not in message and "^" not in message and "\n" not in message


@pytest.mark.parametrize(("readme", "expected"), [(BROKEN, PLAIN), (UNCLOSED, UNCLOSED_PLAIN)])
def test_the_api_names_the_line_of_the_file(plaza, api: HfApi, repo_id, readme, expected):
    answer = httpx.post(f"{plaza.url}/api/validate-yaml", json={"content": readme, "repoType": "model"})
    assert answer.status_code == 400
    assert_plain(answer.json()["errors"][0]["message"], expected)
    # The commit is refused with the same words, in the header the client shows.
    with pytest.raises(ValueError) as refused:
        api.upload_file(path_or_fileobj=readme.encode(), path_in_repo="README.md", repo_id=repo_id)
    assert expected in str(refused.value)
    answer = raw_commit(plaza, api.token, repo_id, [inline("README.md", readme.encode())])
    assert answer.status_code == 400
    assert_plain(answer.json()["error"], expected)
    assert_plain(answer.headers["x-error-message"], expected)


def test_the_card_editor_names_the_line_of_the_file(plaza, repo_id):
    with browser(plaza) as client:
        log_in(client, "alice")
        form = {"text": BROKEN.replace("\n", "\r\n"), "csrf_token": csrf(client)}  # as browsers send it
        preview = client.post(f"/{repo_id}/preview", data=form, headers={"HX-Request": "true"})
        assert preview.status_code == 200
        assert PLAIN in html.unescape(preview.text)
        saved = client.post(f"/{repo_id}/edit/main/README.md", data={**form, "title": "Card"})
        assert saved.status_code == 400
        assert f"Nothing was committed. {PLAIN}" in html.unescape(saved.text)
