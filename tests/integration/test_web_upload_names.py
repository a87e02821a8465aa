"""The upload page asks the plaza about its files' names before sending them, so a refused name
costs no upload; a form sent anyway is refused by the name of its first bad file, before any of
that file's bytes are kept."""

from __future__ import annotations

import hashlib
import os

from huggingface_hub import HfApi

from tests.integration.test_web_accounts import browser, csrf, log_in


def test_names_are_checked_before_the_files_are_sent(plaza, repo_id):
    with browser(plaza) as client:
        log_in(client, "alice")
        token = {"X-CSRF-Token": csrf(client)}
        url = f"/{repo_id}/upload/main/check"
        good = client.post(url, json={"folder": "data", "paths": ["a.csv", "sub/b.csv"]}, headers=token)
        assert good.status_code == 200 and good.json() == {"problems": []}
        bad = client.post(url, json={"folder": "../up", "paths": ["a.csv", ".git/config"]}, headers=token)
        assert bad.status_code == 200
        assert bad.json()["problems"] == [
            "Invalid path '../up/a.csv': empty, '.' or '..' segment",
            "Invalid path '../up/.git/config': empty, '.' or '..' segment",
        ]
        assert client.post(url, json={"paths": ["a\\b.txt"]}, headers=token).json()["problems"] == [
            "Invalid path 'a\\\\b.txt': use '/' rather than '\\'"
        ]
        # Asking needs the right to upload there, and the page's CSRF token.
        assert client.post(url, json={"paths": ["a"]}).status_code == 403
    with browser(plaza) as bob:
        log_in(bob, "bob")
        refused = bob.post(url, json={"paths": ["a"]}, headers={"X-CSRF-Token": csrf(bob)})
        assert refused.status_code in (403, 404) and "error" in refused.json()


def test_a_streamed_upload_into_a_bad_folder_keeps_nothing(plaza, api: HfApi, repo_id):
    content = os.urandom(4096)
    sha256 = hashlib.sha256(content).hexdigest()
    with browser(plaza) as client:
        log_in(client, "alice")
        answer = client.post(
            f"/{repo_id}/upload/main",
            data={"folder": "a/../.."},
            files={"files": ("x.bin", content)},
            headers={"X-CSRF-Token": csrf(client), "Accept": "application/json"},
        )
    assert answer.status_code == 400
    assert answer.json()["error"] == "Invalid path 'a/../../x.bin': empty, '.' or '..' segment"
    assert api.list_repo_files(repo_id) == [".gitattributes"]
    # Refused from the file's part headers: its bytes were never stored.
    assert not (plaza.data_dir / "blobs" / sha256[:2] / sha256[2:4] / sha256).exists()
