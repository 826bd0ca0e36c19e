"""Run the timeline writer: `phoneunify writer` (or `python -m workers.timeline`)."""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, start_http_server

from phoneunify import gctune
from phoneunify.db import make_engine
from phoneunify.settings import Settings
from schema.topics import Topics
from workers.timeline.writer import TimelineWriter

log = logging.getLogger(__name__)


def run_writer(settings: Settings) -> int:
    registry = CollectorRegistry()
    start_http_server(settings.writer_metrics_port, addr=settings.writer_metrics_host, registry=registry)
    writer = TimelineWriter(
        make_engine(settings.database_url),
        settings.kafka_bootstrap,
        Topics(settings.topic_prefix),
        settings.writer_group,
        registry,
        batch_size=settings.writer_batch_size,
    )
    log.info("timeline writer consuming %s", Topics(settings.topic_prefix).linked)
    gctune.tune()
    writer.run()
    return 0


if __name__ == "__main__":
    from phoneunify import logs

    logs.setup()
    raise SystemExit(run_writer(Settings.from_env()))
