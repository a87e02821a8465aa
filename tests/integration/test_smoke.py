"""The first thing a newcomer does: create a repo, upload, download, with huggingface_hub."""

from huggingface_hub import hf_hub_download


def test_upload_and_download_a_file(api, repo_name, tmp_path):
    repo_id = f"alice/{repo_name}"
    url = api.create_repo(repo_id)
    assert url.repo_id == repo_id
    api.upload_file(path_or_fileobj=b"hello plaza\n", path_in_repo="hello.txt", repo_id=repo_id)
    path = hf_hub_download(repo_id, "hello.txt", token=api.token, cache_dir=tmp_path)
    with open(path, "rb") as file:
        assert file.read() == b"hello plaza\n"
    assert sorted(api.list_repo_files(repo_id)) == [".gitattributes", "hello.txt"]
