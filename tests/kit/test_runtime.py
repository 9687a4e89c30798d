"""One runtime for background work (docs/architecture.md): the loops and jobs the mounts declare are
what `xinex worker` and `xinex run` start, every job a queue can hold is declared by a mount, and a
supervised loop that fails comes back."""

from __future__ import annotations

import asyncio
import logging

import pytest
from xinex.kit.jobs import REGISTRY, job
from xinex.kit.loops import Loop, start


def test_every_registered_job_is_declared_by_a_mount():
    from xinex import routes  # imports every mount, hence every job module

    declared = [fn.job_name for fn in routes.JOBS]
    assert len(declared) == len(set(declared))
    assert set(REGISTRY) == set(declared)
    # Names are what the queue stores: a job that moves keeps its name (jobs already on Redis).
    assert {"xinex.oncall.paging.deliver_page", "xinex.webhooks.dispatcher.deliver_webhook",
            "xinex.monitors.scheduler.run_checks", "xinex.kit.mail.send_email"} <= set(declared)


def test_the_worker_runs_every_loop_but_the_embedded_only_ones():
    from xinex import routes
    from xinex.worker import worker_jobs, worker_loops

    names = [loop.name for loop in routes.BACKGROUND_TASKS]
    assert len(names) == len(set(names))
    assert "events.outbox.consumer" in names
    embedded_only = [loop.name for loop in routes.BACKGROUND_TASKS if loop.embedded_only]
    assert embedded_only == ["telemetry.otlp_receivers"]
    assert [loop.name for loop in worker_loops()] == [n for n in names if n not in embedded_only]
    assert worker_jobs() == sorted(fn.job_name for fn in routes.JOBS)


def test_the_outbox_has_its_subscribers_declared():
    from xinex import routes
    from xinex.incidents.engine import handle

    assert routes.OUTBOX_SUBSCRIBERS == [handle]


def test_a_job_name_is_unique():
    @job(name="tests.runtime.once")
    async def first(ctx):
        return 1

    try:
        assert first.job_name == "tests.runtime.once"
        with pytest.raises(RuntimeError, match="two jobs named tests.runtime.once"):
            @job(name="tests.runtime.once")
            async def second(ctx):
                return 2
    finally:
        REGISTRY.pop("tests.runtime.once", None)


async def test_a_supervised_loop_is_started_again_and_an_unsupervised_one_is_not(caplog):
    stop = asyncio.Event()
    runs = {"flaky": 0, "once": 0}
    again = asyncio.Event()

    async def flaky(db, stop_event):
        runs["flaky"] += 1
        if runs["flaky"] == 1:
            raise RuntimeError("lost the database")
        again.set()
        await stop_event.wait()

    async def once(db, stop_event):
        runs["once"] += 1

    caplog.set_level(logging.WARNING, logger="xinex.loops")
    tasks = start([Loop("tests.flaky", flaky), Loop("tests.once", once, restart=False)], None, stop)
    assert [t.get_name() for t in tasks] == ["tests.flaky", "tests.once"]
    await asyncio.wait_for(again.wait(), 10)  # the first backoff is 1 s
    stop.set()
    await asyncio.gather(*tasks)
    assert runs == {"flaky": 2, "once": 1}
    assert "tests.flaky failed (RuntimeError); starting it again" in caplog.text
    assert "tests.once" not in caplog.text
