"""Which consumer group a workers process joins for the stages it runs."""

from __future__ import annotations

import dataclasses

import pytest

from phoneunify.settings import Settings
from workers.streams.app import group_id


def test_a_process_running_every_stage_is_the_worker_group() -> None:
    settings = Settings(worker_id="pu")
    assert group_id(settings) == "pu"
    assert group_id(dataclasses.replace(settings, worker_stages=("commands", "resolve", "extract"))) == "pu"


def test_a_process_running_some_stages_has_a_group_of_its_own() -> None:
    """Each stage's partitions are shared among the processes that run that stage, never with a
    process that does not subscribe to its topic."""
    settings = Settings(worker_id="pu")
    assert group_id(dataclasses.replace(settings, worker_stages=("extract",))) == "pu-extract"
    assert (
        group_id(dataclasses.replace(settings, worker_stages=("commands", "resolve")))
        == "pu-resolve-commands"
    )


@pytest.mark.parametrize("stages", [(), ("extract", "enrich")])
def test_unknown_or_no_stages_are_refused(stages: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="worker_stages"):
        group_id(dataclasses.replace(Settings(), worker_stages=stages))


def test_stages_come_from_the_environment() -> None:
    settings = Settings.from_env({"PHONEUNIFY_WORKER_STAGES": "resolve, commands"})
    assert settings.worker_stages == ("resolve", "commands")
