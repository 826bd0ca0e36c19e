"""Run the timeline writer: `phoneunify writer` (or `python -m workers.timeline`)."""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, start_http_server

from phoneunify import gctune
from phoneunify.exits import EX_SOFTWARE
from phoneunify.settings import Settings
from workers.bootstrap import timeline_writer

log = logging.getLogger(__name__)


def run_writer(settings: Settings) -> int:
    registry = CollectorRegistry()
    start_http_server(settings.writer_metrics_port, addr=settings.writer_metrics_host, registry=registry)
    writer = timeline_writer(settings, registry)
    log.info("timeline writer consuming %s", writer.topics.linked)
    gctune.tune()
    try:
        writer.run()
    except Exception:
        # A bug, or PostgreSQL or Kafka down past the retry bound: the batch in hand was not
        # committed, so the restarted writer reads it again. The workers' stages stop the same way.
        log.critical("timeline writer stopped; exiting %d without committing", EX_SOFTWARE, exc_info=True)
        return EX_SOFTWARE
    return 0


if __name__ == "__main__":
    from phoneunify import logs

    logs.setup()
    raise SystemExit(run_writer(Settings.from_env()))
