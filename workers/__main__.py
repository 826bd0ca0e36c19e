"""Run the faust workers: `phoneunify workers` (or `python -m workers`)."""

from __future__ import annotations

import sys

import mode.loop
from prometheus_client import CollectorRegistry

from phoneunify.db import make_engine
from phoneunify.settings import Settings
from workers.streams.app import create_app


def run_workers(settings: Settings, loglevel: str = "info") -> int:
    # uvloop before anything creates the loop: its C event loop and transports cost a fraction
    # of asyncio's pure-Python ones for the many small socket reads of the Kafka clients.
    mode.loop.use("uvloop")
    engine = make_engine(settings.database_url)
    app = create_app(settings, engine, CollectorRegistry())
    # faust's own command line reads sys.argv; give it the worker command and nothing else of ours.
    sys.argv = [
        "phoneunify-workers",
        "worker",
        "--loglevel",
        loglevel,
        "--web-port",
        str(settings.worker_web_port),
        "--web-bind",
        settings.worker_web_host,
    ]
    app.main()
    return 0


if __name__ == "__main__":
    raise SystemExit(run_workers(Settings.from_env()))
