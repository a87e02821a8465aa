"""The JSON bodies of the Hugging Face-compatible API as pydantic models, for the OpenAPI
document at ``/api/docs``. Field names are the wire names the clients read. Answers are built
by ``serialize`` and go out with ``response_model_exclude_unset``: a field the serializer
leaves out stays out, and a null it sets stays null, so the JSON is what the clients expect.
Request bodies are read by the routers themselves (their error messages are part of the API);
these models describe them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Wire(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


# --- repos ----------------------------------------------------------------------------------


class BlobLfs(_Wire):
    sha256: str
    size: int
    pointerSize: int


class Sibling(_Wire):
    """A file of the revision; ``size``, ``blobId`` and ``lfs`` only with ``?blobs=true``."""

    rfilename: str
    size: int | None = None
    blobId: str | None = None
    lfs: BlobLfs | None = None


class RepoInfo(_Wire):
    """A model or dataset. ``modelId``, ``pipeline_tag`` and ``library_name`` are for models
    only; ``siblings`` and ``usedStorage`` come with the repo-info endpoints (and lists with
    ``full``), ``cardData`` with repo info and lists with ``full`` or ``cardData``."""

    object_id: str = Field(alias="_id")
    id: str = Field(description="namespace/name")
    author: str
    sha: str | None = Field(None, description="The revision's commit id")
    private: bool
    gated: bool
    disabled: bool
    lastModified: str
    createdAt: str
    downloads: int
    likes: int
    tags: list[str]
    cardData: dict[str, Any] | None = None
    modelId: str | None = None
    pipeline_tag: str | None = None
    library_name: str | None = None
    siblings: list[Sibling] | None = None
    usedStorage: int | None = None


class CreateRepoRequest(_Wire):
    name: str
    organization: str | None = Field(None, description="The namespace; the caller's own by default")
    type: Literal["model", "dataset"] = "model"
    private: bool | None = None
    visibility: Literal["public", "private"] | None = Field(None, description="Instead of private")


class CreateRepoResponse(_Wire):
    url: str
    name: str = Field(description="namespace/name")
    id: str


class DeleteRepoRequest(_Wire):
    name: str
    organization: str | None = None
    type: Literal["model", "dataset"] = "model"


class RepoSettingsRequest(_Wire):
    private: bool | None = None
    visibility: Literal["public", "private"] | None = None


class Empty(_Wire):
    """An empty object: the change was made."""


# --- refs and history -----------------------------------------------------------------------


class GitRef(_Wire):
    name: str
    ref: str = Field(description="refs/heads/NAME or refs/tags/NAME")
    targetCommit: str


class GitRefs(_Wire):
    branches: list[GitRef]
    converts: list[GitRef]
    tags: list[GitRef]
    pullRequests: list[GitRef] | None = Field(None, description="With include_prs=true; always empty")


class CommitAuthor(_Wire):
    user: str


class CommitEntry(_Wire):
    id: str
    title: str
    message: str
    date: str
    authors: list[CommitAuthor]


class CreateBranchRequest(_Wire):
    startingPoint: str | None = Field(None, description="A revision; the default branch's head by default")


class CreateTagRequest(_Wire):
    tag: str
    message: str | None = None


# --- files ----------------------------------------------------------------------------------


class TreeLfs(_Wire):
    oid: str = Field(description="sha256")
    size: int
    pointerSize: int


class TreeEntry(_Wire):
    type: Literal["file", "directory"]
    oid: str = Field(description="The git object id")
    size: int
    path: str
    lfs: TreeLfs | None = None
    xetHash: str | None = Field(None, description="When Xet downloads are switched on")


class PathsInfoForm(_Wire):
    paths: list[str] = Field(description="Form field, repeated: the paths to describe")
    expand: bool | None = None


class PlannedUpload(_Wire):
    path: str
    size: int = 0
    sample: str = Field("", description="The file's first 512 bytes, base64")


class PreuploadRequest(_Wire):
    files: list[PlannedUpload]
    gitIgnore: str | None = None


class UploadMode(_Wire):
    path: str
    uploadMode: Literal["lfs", "regular"]
    shouldIgnore: bool
    oid: str | None = Field(description="The oid of the file now at this path, if any")


class PreuploadResponse(_Wire):
    files: list[UploadMode]


class CommitResponse(_Wire):
    commitUrl: str
    commitOid: str
    pullRequestUrl: str | None


COMMIT_BODY_DOC = """The body is NDJSON (`application/x-ndjson`), one JSON object per line,
each `{"key": ..., "value": ...}`. The first line is the header:
`{"key": "header", "value": {"summary": "...", "description": "...", "parentCommit": "<oid>"}}`
(`parentCommit` optional: with it the commit is refused with 409 if the branch has moved on).
Each further line is one operation:
`{"key": "file", "value": {"path": "...", "content": "<base64>", "encoding": "base64"}}`,
`{"key": "lfsFile", "value": {"path": "...", "algo": "sha256", "oid": "<sha256>", "size": N}}`
(the object uploaded before through LFS or Xet),
`{"key": "deletedFile", "value": {"path": "..."}}` or
`{"key": "deletedFolder", "value": {"path": "..."}}`."""


# --- LFS batch ------------------------------------------------------------------------------


class LfsObject(_Wire):
    oid: str = Field(description="sha256")
    size: int


class LfsBatchRequest(_Wire):
    operation: Literal["upload", "download"]
    objects: list[LfsObject]
    transfers: list[str] | None = Field(None, description="Only 'basic' is offered")
    ref: dict[str, str] | None = None


class LfsAction(_Wire):
    href: str
    expires_in: int | None = None


class LfsError(_Wire):
    code: int
    message: str


class LfsObjectAnswer(_Wire):
    """No ``actions`` for an object the caller may use without sending it (the client skips
    it): one a repo they may read holds, or sent to this repo before. Anything else, stored
    elsewhere or not, gets an upload action."""

    oid: str
    size: int
    authenticated: bool | None = None
    actions: dict[Literal["upload", "verify", "download"], LfsAction] | None = None
    error: LfsError | None = None


class LfsBatchResponse(_Wire):
    transfer: Literal["basic"]
    objects: list[LfsObjectAnswer]


class LfsVerifyResponse(_Wire):
    message: str


# --- accounts -------------------------------------------------------------------------------


class OrgMembership(_Wire):
    name: str
    roleInOrg: Literal["read", "write", "admin"]


class AccessToken(_Wire):
    displayName: str | None
    role: Literal["read", "write"]


class TokenAuth(_Wire):
    type: Literal["access_token"]
    accessToken: AccessToken


class WhoAmI(_Wire):
    type: Literal["user"]
    id: str
    name: str
    fullname: str
    email: str | None
    isAdmin: bool
    orgs: list[OrgMembership]
    auth: TokenAuth


class XetToken(_Wire):
    accessToken: str
    exp: int = Field(description="Expiry, seconds since the epoch")
    casUrl: str
