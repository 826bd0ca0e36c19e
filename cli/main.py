"""`phoneunify`: one command for every process and every operator task.

Each subcommand loads Settings once from the environment and builds what it needs; nothing
connects at import time.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from phoneunify import logs
from phoneunify.exits import EX_CONFIG
from phoneunify.settings import DEV, Settings, SettingsError

log = logging.getLogger("phoneunify")

# The processes that run for long: each says at start when it runs with development secrets.
SERVERS = ("ingest", "workers", "writer", "api", "profiles")


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from schema.migrate import downgrade, upgrade

    if args.downgrade:
        downgrade(settings.database_url, args.revision or "base")
    else:
        upgrade(settings.database_url, args.revision or "head")
    return 0


def _topics(args: argparse.Namespace, settings: Settings) -> int:
    from phoneunify.kafka_admin import ensure_topics

    created = ensure_topics(settings)
    print(f"{len(created)} topic(s) created")
    return 0


def _ingest(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.__main__ import serve

    serve(settings)
    return 0


def _workers(args: argparse.Namespace, settings: Settings) -> int:
    from workers.__main__ import run_workers

    settings.require("workers", "phone_hash_key")  # it keys the resolve topic by phone
    return run_workers(settings, args.loglevel)


def _writer(args: argparse.Namespace, settings: Settings) -> int:
    from workers.timeline.__main__ import run_writer

    return run_writer(settings)


def _profiles(args: argparse.Namespace, settings: Settings) -> int:
    from workers.profiles.__main__ import run_profiles

    settings.require("profiles", "phone_hash_key")  # it keys the profile envelopes by thread
    return run_profiles(settings)


def _api(args: argparse.Namespace, settings: Settings) -> int:
    from api.__main__ import serve

    serve(settings)
    return 0


def _extract(args: argparse.Namespace, settings: Settings) -> int:
    from workers.extract_cli import run

    return int(run(sys.stdin, sys.stdout, args.region or settings.default_region))


def _replay(args: argparse.Namespace, settings: Settings) -> int:
    from ingest.replay import main as replay_main

    return replay_main([*args.files, *(["--no-progress"] if args.no_progress else [])])


def _timeline(args: argparse.Namespace, settings: Settings) -> int:
    from cli.terminal import show_timeline

    return show_timeline(settings, phone=args.phone, customer=args.customer, limit=args.limit, zone=args.tz)


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from cli.demo import run_demo

    return run_demo(settings)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="phoneunify", description=__doc__)
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("migrate", help="apply database migrations (Alembic)")
    p.add_argument("--downgrade", action="store_true", help="downgrade instead of upgrade")
    p.add_argument("--revision", help="target revision (default head, or base with --downgrade)")
    p.set_defaults(func=_migrate)

    sub.add_parser("topics", help="create every Kafka topic phoneunify uses").set_defaults(func=_topics)
    sub.add_parser("ingest", help="serve the webhook edge").set_defaults(func=_ingest)
    p = sub.add_parser("workers", help="run the faust workers (extract, resolve, admin commands)")
    p.add_argument("--loglevel", default="info")
    p.set_defaults(func=_workers)
    sub.add_parser("writer", help="run the timeline writer").set_defaults(func=_writer)
    sub.add_parser("api", help="serve the read and admin API").set_defaults(func=_api)
    sub.add_parser(
        "profiles", help="run the profile fetcher (Messenger and Instagram senders' Graph API profiles)"
    ).set_defaults(func=_profiles)

    p = sub.add_parser("extract", help="extract phone numbers from JSON lines on stdin")
    p.add_argument("--region", help="default region for numbers without a country code")
    p.set_defaults(func=_extract)

    p = sub.add_parser("replay", help="publish stored payloads or envelopes (JSON lines) for a backfill")
    p.add_argument("files", nargs="+")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_replay)

    p = sub.add_parser("timeline", help="print a customer's unified timeline")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--phone", help="the customer's phone, in any format")
    who.add_argument("--customer", help="the customer id")
    p.add_argument("--limit", type=int, default=200, help="most events shown (default 200)")
    p.add_argument("--tz", default="UTC", help="time zone of the times shown, e.g. America/Los_Angeles")
    p.set_defaults(func=_timeline)

    sub.add_parser("demo", help="run the design document's journeys through the running stack").set_defaults(
        func=_demo
    )
    from cli import dlq, renormalize

    dlq.add_parser(sub)
    renormalize.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command != "extract":
        logs.setup(args.log_level)
    try:
        settings = Settings.from_env()
        if args.command in SERVERS and settings.env == DEV and settings.development_values():
            log.warning(
                "DEVELOPMENT MODE (PHONEUNIFY_ENV=dev): %s hold published development values;"
                " never expose this process",
                ", ".join(settings.development_values()),
            )
        return int(args.func(args, settings) or 0)
    except SettingsError as exc:
        print(f"phoneunify {args.command}: {exc}", file=sys.stderr)
        return EX_CONFIG
