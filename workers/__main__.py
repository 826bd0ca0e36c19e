"""Run the faust workers: `phoneunify workers` (or `python -m workers`)."""

from __future__ import annotations

import sys

import mode.loop
from prometheus_client import CollectorRegistry

from phoneunify import gctune
from phoneunify.settings import Settings
from workers.bootstrap import workers_app


def run_workers(settings: Settings, loglevel: str = "info") -> int:
    # uvloop before anything creates the loop: its C event loop and transports cost a fraction
    # of asyncio's pure-Python ones for the many small socket reads of the Kafka clients.
    mode.loop.use("uvloop")
    # The process pool's threads carry each batch to the resolver child and its result back;
    # each must win the GIL from the event loop to do so, and at the default 5 ms switch
    # interval every hand-over may wait that long behind the loop's work.
    sys.setswitchinterval(0.0005)
    app = workers_app(settings, CollectorRegistry(), loglevel)
    gctune.tune()
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
