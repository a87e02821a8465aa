"""Running the plaza under uvicorn."""

from __future__ import annotations

import logging

import uvicorn

from modelplaza.api.app import create_app
from modelplaza.config import Settings
from modelplaza.plaza import Plaza


def run(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    plaza = Plaza(settings).migrate()
    logging.getLogger("modelplaza").info(
        "ModelPlaza on http://%s:%d (data in %s)", settings.host, settings.port, settings.data_dir
    )
    uvicorn.run(
        create_app(plaza),
        host=settings.host,
        port=settings.port,
        log_level="info",
        timeout_keep_alive=30,
        access_log=False,
    )
