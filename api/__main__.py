"""Serve the API: `phoneunify api` (or `python -m api`)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from api.app import create_app
from ingest.publisher import KafkaPublisher
from phoneunify import gctune, httpserver, logs
from phoneunify.db import make_engine
from phoneunify.lag import LagExporter
from phoneunify.settings import Settings


def serve(settings: Settings) -> None:
    # The tokens name the admins; the phone hash key keys the commands and signs the cursors.
    settings.require("api", "api_tokens", "phone_hash_key")
    publisher = KafkaPublisher(
        settings.kafka_bootstrap,
        settings.publish_timeout_s,
        client_id="phoneunify-api",
        max_request_size=settings.message_max_bytes,
    )
    registry = CollectorRegistry()
    app = create_app(settings, make_engine(settings.database_url), publisher, registry)
    # Every stage's consumer lag, read from the broker (phoneunify/lag.py), on the API's /metrics.
    lag = LagExporter(settings, registry).start()
    gctune.tune()
    try:
        httpserver.serve(app, settings, host=settings.api_host, port=settings.api_port)
    finally:
        lag.stop()
        publisher.close()


if __name__ == "__main__":
    logs.setup()
    serve(Settings.from_env())
