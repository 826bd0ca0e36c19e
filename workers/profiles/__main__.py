"""Run the profile fetcher: `phoneunify profiles` (or `python -m workers.profiles`).

Without Graph API tokens (PHONEUNIFY_META_PAGE_TOKENS) the fetcher is disabled, loudly: it says
so, serves /metrics with phoneunify_profile_fetcher_enabled 0 and waits to be stopped, so a
supervisor neither restarts it in a loop nor reports the stack broken; senders then keep their
page-scoped ids.
"""

from __future__ import annotations

import logging
import signal
from threading import Event

from prometheus_client import CollectorRegistry, Gauge, start_http_server

from phoneunify import gctune
from phoneunify.settings import Settings, env_var
from workers.bootstrap import profile_fetcher

log = logging.getLogger(__name__)


def run_profiles(settings: Settings) -> int:
    registry = CollectorRegistry()
    enabled = Gauge(
        "phoneunify_profile_fetcher_enabled",
        "1 when the profile fetcher has Graph API tokens and runs, 0 when it is disabled.",
        registry=registry,
    )
    start_http_server(settings.profile_metrics_port, addr=settings.profile_metrics_host, registry=registry)
    if not settings.page_tokens:
        enabled.set(0)
        log.error(
            "profile fetcher DISABLED: %s is not set (account:token,...); Messenger and Instagram"
            " senders keep their page-scoped ids",
            env_var("meta_page_tokens"),
        )
        stop = Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        while not stop.wait(3600):
            pass
        return 0
    enabled.set(1)
    fetcher = profile_fetcher(settings, registry)
    log.info(
        "profile fetcher for %d account(s), Graph API %s",
        len(settings.page_tokens),
        settings.meta_graph_version,
    )
    gctune.tune()
    fetcher.run()
    return 0


if __name__ == "__main__":
    from phoneunify import logs

    logs.setup()
    raise SystemExit(run_profiles(Settings.from_env()))
