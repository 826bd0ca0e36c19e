"""`python -m ingest`: serve the webhooks, /metrics and /healthz with a Kafka publisher."""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry

from ingest.app import create_app, disabled_endpoints
from ingest.async_publisher import AioKafkaPublisher
from phoneunify import gctune, httpserver, logs
from phoneunify.settings import Settings

log = logging.getLogger("ingest")


def serve(settings: Settings) -> None:
    """Run the ingest edge until interrupted; the app's shutdown flushes and closes the producer
    on the server's loop."""
    settings.require("ingest", "phone_hash_key")
    log.info("ingest starting with %s", settings.redacted())
    for path, variable in disabled_endpoints(settings).items():
        # Loud, and 503 on the endpoint: a provider retries a 503 until the secret is set.
        log.warning("ingest: %s is DISABLED (answers 503) until %s is set", path, variable)
    publisher = AioKafkaPublisher(
        settings.kafka_bootstrap,
        timeout_s=settings.publish_timeout_s,
        max_request_size=settings.message_max_bytes,
    )
    app = create_app(settings, publisher, CollectorRegistry())
    gctune.tune()
    # uvloop and httptools: C event loop and HTTP parser, a fraction of asyncio's + h11's CPU
    # per request at a thousand webhooks a second.
    httpserver.serve(app, settings, host=settings.ingest_host, port=settings.ingest_port, loop="uvloop")


def main() -> None:
    logs.setup()
    serve(Settings.from_env())


if __name__ == "__main__":
    main()
