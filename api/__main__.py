"""Serve the API: `phoneunify api` (or `python -m api`)."""

from __future__ import annotations

import uvicorn
from prometheus_client import CollectorRegistry

from api.app import create_app
from ingest.publisher import KafkaPublisher
from phoneunify import gctune
from phoneunify.db import make_engine
from phoneunify.settings import Settings


def serve(settings: Settings) -> None:
    publisher = KafkaPublisher(
        settings.kafka_bootstrap, settings.publish_timeout_s, client_id="phoneunify-api"
    )
    app = create_app(settings, make_engine(settings.database_url), publisher, CollectorRegistry())
    gctune.tune()
    try:
        uvicorn.run(app, host=settings.api_host, port=settings.api_port, log_level="info", access_log=False)
    finally:
        publisher.close()


if __name__ == "__main__":
    serve(Settings.from_env())
