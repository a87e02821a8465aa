"""The API's documentation: ``/api/docs`` works without the internet, and the OpenAPI document
describes the bodies of the endpoints the clients use most."""

from __future__ import annotations

import re

import httpx
import pytest

# Path -> method -> the schema its 200 answer refers to.
DOCUMENTED_ANSWERS = {
    "/api/{type_plural}/{namespace}/{name}": {"get": "RepoInfo"},
    "/api/{type_plural}": {"get": "RepoInfo"},
    "/api/repos/create": {"post": "CreateRepoResponse"},
    "/api/{type_plural}/{namespace}/{name}/refs": {"get": "GitRefs"},
    "/api/{type_plural}/{namespace}/{name}/commits/{revision}": {"get": "CommitEntry"},
    "/api/{type_plural}/{namespace}/{name}/tree/{revision}": {"get": "TreeEntry"},
    "/api/{type_plural}/{namespace}/{name}/paths-info/{revision}": {"post": "TreeEntry"},
    "/api/{type_plural}/{namespace}/{name}/preupload/{revision}": {"post": "PreuploadResponse"},
    "/api/{type_plural}/{namespace}/{name}/commit/{revision}": {"post": "CommitResponse"},
    "/{namespace}/{name_git}/info/lfs/objects/batch": {"post": "LfsBatchResponse"},
    "/api/whoami-v2": {"get": "WhoAmI"},
    "/api/jobs": {"get": "JobInfo", "post": "JobInfo"},
    "/api/jobs/{job_id}": {"get": "JobInfo"},
    "/api/jobs/{job_id}/events": {"get": "JobEvents"},
}
# Path -> method -> (media type, a field the documented request body has).
DOCUMENTED_REQUESTS = {
    "/api/repos/create": ("post", "application/json", "organization"),
    "/api/repos/delete": ("delete", "application/json", "name"),
    "/api/{type_plural}/{namespace}/{name}/preupload/{revision}": ("post", "application/json", "files"),
    "/api/{type_plural}/{namespace}/{name}/paths-info/{revision}": (
        "post",
        "application/x-www-form-urlencoded",
        "paths",
    ),
    "/{namespace}/{name_git}/info/lfs/objects/batch": ("post", "application/vnd.git-lfs+json", "objects"),
    "/api/{type_plural}/{namespace}/{name}/branch/{branch}": ("post", "application/json", "startingPoint"),
}


@pytest.fixture(scope="module")
def openapi(plaza) -> dict:
    response = httpx.get(f"{plaza.url}/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_the_docs_page_loads_nothing_from_elsewhere(plaza):
    page = httpx.get(f"{plaza.url}/api/docs")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert not re.search(r"\b(https?:)?//[a-z0-9]", page.text, re.IGNORECASE), "an address off the plaza"
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    # The OpenAPI document's address, which static/api-docs.js hands to Swagger UI.
    assets += re.findall(r"""data-openapi-url=["']([^"']+)["']""", page.text)
    assert "/api/openapi.json" in assets
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for asset in assets:
        assert asset.startswith("/"), asset
        assert httpx.get(f"{plaza.url}{asset}").status_code == 200, asset


def _schema_name(schema: dict) -> str | None:
    ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
    return ref.rsplit("/", 1)[-1] if ref else None


@pytest.mark.parametrize(
    ("path", "method", "model"),
    [
        (path, method, model)
        for path, methods in DOCUMENTED_ANSWERS.items()
        for method, model in methods.items()
    ],
)
def test_answers_have_schemas(openapi, path, method, model):
    answers = openapi["paths"][path][method]["responses"]
    ok = answers.get("200") or answers["201"]
    (content,) = ok["content"].values()
    assert _schema_name(content["schema"]) == model
    assert openapi["components"]["schemas"][model]["properties"]
    # Refusals as the plaza sends them: 400 with the error body, never FastAPI's 422.
    assert "422" not in answers
    assert _schema_name(answers["400"]["content"]["application/json"]["schema"]) == "ErrorAnswer"


@pytest.mark.parametrize(("path", "spec"), DOCUMENTED_REQUESTS.items())
def test_requests_have_schemas(openapi, path, spec):
    method, media_type, field = spec
    schema = openapi["paths"][path][method]["requestBody"]["content"][media_type]["schema"]
    assert field in schema["properties"]


def test_wire_names_are_in_the_schemas(openapi):
    schemas = openapi["components"]["schemas"]
    assert {"_id", "lastModified", "cardData", "siblings", "pipeline_tag"} <= set(
        schemas["RepoInfo"]["properties"]
    )
    assert {"uploadMode", "shouldIgnore", "oid"} <= set(schemas["UploadMode"]["properties"])
    assert (
        "NDJSON"
        in openapi["paths"]["/api/{type_plural}/{namespace}/{name}/commit/{revision}"]["post"]["requestBody"][
            "description"
        ]
    )


def test_answers_keep_the_fields_the_clients_read(plaza, api, repo_name):
    """Going through the schemas leaves omitted fields out and nulls in, as before."""
    headers = {"Authorization": f"Bearer {plaza.tokens['alice']}"}
    model, dataset = f"alice/{repo_name}", f"alice/{repo_name}-data"
    api.create_repo(model)
    api.create_repo(dataset, repo_type="dataset")
    api.upload_file(path_or_fileobj=b"hello", path_in_repo="a.txt", repo_id=model)

    info = httpx.get(f"{plaza.url}/api/models/{model}", headers=headers).json()
    assert {"_id", "modelId", "pipeline_tag", "library_name", "siblings", "usedStorage"} <= set(info)
    assert info["pipeline_tag"] is None
    assert "a.txt" in {s["rfilename"] for s in info["siblings"]}
    assert all(set(sibling) == {"rfilename"} for sibling in info["siblings"])  # no blobs asked for
    data_info = httpx.get(f"{plaza.url}/api/datasets/{dataset}", headers=headers).json()
    assert not {"modelId", "pipeline_tag", "library_name"} & set(data_info)

    refs = httpx.get(f"{plaza.url}/api/models/{model}/refs", headers=headers).json()
    assert set(refs) == {"branches", "converts", "tags"}
    preupload = httpx.post(
        f"{plaza.url}/api/models/{model}/preupload/main",
        json={"files": [{"path": "new.txt", "size": 1, "sample": ""}]},
        headers=headers,
    ).json()
    assert preupload == {
        "files": [{"path": "new.txt", "uploadMode": "regular", "shouldIgnore": False, "oid": None}]
    }
    (entry,) = httpx.post(
        f"{plaza.url}/api/models/{model}/paths-info/main", data={"paths": ["a.txt"]}, headers=headers
    ).json()
    assert set(entry) == {"type", "oid", "size", "path"}
