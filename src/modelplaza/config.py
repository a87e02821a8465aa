"""Settings, read from ``PLAZA_*`` environment variables (and an optional ``plaza.toml``)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import NonNegativeInt
from pydantic_settings import BaseSettings, SettingsConfigDict, TomlConfigSettingsSource


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PLAZA_", toml_file="plaza.toml", extra="ignore")

    data_dir: Path = Path(".plaza")
    # Defaults to a SQLite file inside data_dir; any SQLAlchemy URL works (PostgreSQL: psycopg).
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    # The address clients reach the plaza at; derived from each request when unset.
    public_url: str | None = None
    # Largest single file accepted, in bytes (inline or LFS).
    max_file_size: int = 50 * 1024**3
    # Files larger than this are sent through LFS even when their sample looks like text.
    lfs_threshold: int = 10 * 1024**2
    # Largest request body of the API's JSON requests and the pages' forms, in bytes; uploads
    # (commits, LFS objects, xorbs and shards, the upload page) have limits of their own.
    max_body_size: int = 1024**2
    # Largest NDJSON commit body, in bytes: its inline files travel in it as base64.
    max_commit_size: int = 256 * 1024**2
    # Seconds an LFS upload link stays valid.
    upload_link_ttl: int = 24 * 3600
    secret_key: str | None = None
    # Where blobs and xorbs are kept: "local" (folders in data_dir) is the one store so far.
    blob_store: str = "local"
    # Where Xet clients reach the CAS service; by default the plaza itself under /cas.
    cas_url: str | None = None
    # Advertise Xet on downloads (X-Xet-Hash, xetHash) so hf_xet fetches Xet-uploaded files itself.
    xet_downloads: bool = False
    # Whether visitors may create their own accounts from the web page (admins always can, with the CLI).
    allow_signup: bool = True
    # Jobs (training) run in subprocesses started by a worker loop inside `plaza serve`; switch it
    # off to run workers elsewhere with `plaza worker`. At most this many jobs run at once.
    embedded_worker: bool = True
    job_concurrency: int = 1
    # How many reverse proxies in front of the plaza append to X-Forwarded-For; 0: none, the
    # socket's peer is the client (login throttling counts by client address).
    proxy_hops: NonNegativeInt = 0

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, *args, **kwargs):
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'plaza.db').resolve()}"
