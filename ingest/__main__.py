"""`python -m ingest`: serve the webhooks, /metrics and /healthz with a Kafka publisher."""

from __future__ import annotations

import logging

import uvicorn
from prometheus_client import CollectorRegistry

from ingest.app import create_app
from ingest.async_publisher import AioKafkaPublisher
from phoneunify import gctune
from phoneunify.settings import Settings

log = logging.getLogger("ingest")


def serve(settings: Settings) -> None:
    """Run the ingest edge until interrupted; the app's shutdown flushes and closes the producer
    on the server's loop."""
    log.info("ingest starting with %s", settings.redacted())
    publisher = AioKafkaPublisher(settings.kafka_bootstrap, timeout_s=settings.publish_timeout_s)
    app = create_app(settings, publisher, CollectorRegistry())
    gctune.tune()
    # uvloop and httptools: C event loop and HTTP parser, a fraction of asyncio's + h11's CPU
    # per request at a thousand webhooks a second.
    uvicorn.run(
        app,
        host=settings.ingest_host,
        port=settings.ingest_port,
        log_level="info",
        access_log=False,
        loop="uvloop",
        http="httptools",
    )


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    serve(Settings.from_env())


if __name__ == "__main__":
    main()
