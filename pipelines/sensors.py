# Sensors: start push and event runs when work waits, reload the code location for new shops, turn failures into alerts.
"""Sensors (all RUNNING by default: the demo expects them on).

`outbox_sensor` and `events_sensor` are the FALLBACK consumers of the two queues. In production
the events worker (`syncstore worker events`, `dispatch.serve_events`) is the one consumer of both
and records a heartbeat every `worker_heartbeat_seconds`; while one is fresh (younger than 3 x the
interval, `syncstore.workers.heartbeats`) these sensors start no run and say so ("the events worker is
running (heartbeat 2 s ago)"). Without a fresh heartbeat they read a cheap summary of their queue
(`dispatch.outbox_work`: due, unleased events only; `dispatch.event_work`): nothing waiting, no
run ("nothing to do"); a run of their job already queued or running, no second one (it takes the
waiting work: a run queued behind it would start to an empty queue). Otherwise one run, keyed by
the work's signature (it changes with every new event and every attempt) and kept in the cursor,
so the same work is not launched twice while a run is starting. If the same work is still waiting
after `STALE_AFTER_S` (its run died before finishing), the key gets a new retry number and another
run starts.

Latency: from an event's arrival to its run's start Dagster takes the sensor loop (0 to 5 s) plus a
run process start (about 6.5 s on a 2-core machine): the worker moves stock within a second.

`shop_partitions` has the code location reloaded when a shop is connected or disconnected, so the
static `shops` partitions are the connected shops again (`pipelines.shops`).
`run_failure_alert` records a `run_failed` alert (or `database_error`, when the database is what
failed) for every failed run; `alerts_sensor` evaluates the threshold alerts every minute, and records
a database outage as a `database_error` alert once the database answers again.
"""

import json
import time
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Final

import dagster as dg
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from assets.partitions import connected_shops
from assets.resources import DatabaseResource
from pipelines import reload, shops
from pipelines.jobs import apply_events, push_changes
from syncstore.ops import alerts
from syncstore.settings import get_settings
from syncstore.workers import dispatch, heartbeats

# Dagster's sensor daemon evaluates sensors at most every 5 s (MIN_INTERVAL_LOOP_TIME): a smaller interval gains
# nothing. The order-to-stock path does not wait for it when `syncstore.workers.dispatch.serve_events` runs (see below).
OUTBOX_INTERVAL_S: Final = 5
EVENTS_INTERVAL_S: Final = 5
PARTITIONS_INTERVAL_S: Final = 30
ALERTS_INTERVAL_S: Final = 60
STALE_AFTER_S: Final = 120.0
# A reload asked for the same set of connected shops is asked again only after this long.
RELOAD_RETRY_S: Final = 300.0
# Runs of a job in these states will take the work waiting now: no second run is requested behind them.
ACTIVE_RUN_STATUSES: Final = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def _queue_request(
    context: dg.SensorEvaluationContext, work: dispatch.PendingWork, queue: str, now: float | None = None
) -> dg.SensorResult | dg.SkipReason:
    if not work.count:
        return dg.SkipReason(f"nothing to do: no {queue} work waiting")
    at = time.time() if now is None else now
    state = json.loads(context.cursor) if context.cursor else {}
    retry = 0
    if state.get("signature") == work.signature:
        if at - float(state.get("since", at)) < STALE_AFTER_S:
            return dg.SkipReason(f"a run for these {work.count} {queue} item(s) was already requested")
        retry = int(state.get("retry", 0)) + 1
    cursor = json.dumps({"signature": work.signature, "since": at, "retry": retry})
    request = dg.RunRequest(run_key=f"{queue}:{work.signature}:{retry}", tags={"syncstore/pending": str(work.count)})
    return dg.SensorResult(run_requests=[request], cursor=cursor)


def _fallback(
    context: dg.SensorEvaluationContext,
    engine: sa.Engine,
    read_work: Callable[[sa.Engine], dispatch.PendingWork],
    queue: str,
    job: dg.JobDefinition,
) -> dg.SensorResult | dg.SkipReason:
    """A run of `job` only when no events worker is alive, work is waiting and no run of `job` is already active."""
    heartbeat = heartbeats.fresh_heartbeat(engine)
    if heartbeat is not None:
        return dg.SkipReason(
            f"the events worker is running (heartbeat {heartbeat.age_s:.0f} s ago): it consumes the {queue} queue"
        )
    work = read_work(engine)
    if not work.count:
        return dg.SkipReason(f"nothing to do: no {queue} work waiting")
    active = context.instance.get_runs_count(dg.RunsFilter(job_name=job.name, statuses=ACTIVE_RUN_STATUSES))
    if active:
        return dg.SkipReason(
            f"a {job.name} run is already queued or running; it takes the {work.count} waiting item(s)"
        )
    return _queue_request(context, work, queue)


@dg.sensor(job=push_changes, minimum_interval_seconds=OUTBOX_INTERVAL_S, default_status=dg.DefaultSensorStatus.RUNNING)
def outbox_sensor(context: dg.SensorEvaluationContext, database: DatabaseResource) -> dg.SensorResult | dg.SkipReason:
    """Fallback: starts `push_changes` when outbox events are due and no events worker runs (see above)."""
    return _fallback(context, database.get_engine(), dispatch.outbox_work, "outbox", push_changes)


@dg.sensor(job=apply_events, minimum_interval_seconds=EVENTS_INTERVAL_S, default_status=dg.DefaultSensorStatus.RUNNING)
def events_sensor(context: dg.SensorEvaluationContext, database: DatabaseResource) -> dg.SensorResult | dg.SkipReason:
    """Fallback: starts `apply_events` when marketplace events are pending and no events worker runs (see above)."""
    return _fallback(context, database.get_engine(), dispatch.event_work, "events", apply_events)


def reconcile_partitions(
    context: dg.SensorEvaluationContext,
    engine: sa.Engine,
    loaded: Collection[str],
    request_reload: Callable[[], None],
    now: float | None = None,
) -> dg.SkipReason:
    """Ask for a reload when the connected shops differ from the loaded partitions (once per difference per
    `RELOAD_RETRY_S`); delete the dynamic `shops` partitions left from before issue 18."""
    legacy = shops.legacy_dynamic_shops(context.instance)
    for key in legacy:
        context.instance.delete_dynamic_partition(shops.LEGACY_DYNAMIC_SHOPS, key)
    if legacy:
        context.log.info("deleted %d dynamic shops partition(s) left from before issue 18", len(legacy))
    wanted = sorted(connected_shops(engine))
    if set(wanted) == set(loaded):
        return dg.SkipReason(f"the partitions are the {len(wanted)} connected shop(s)")
    added, removed = sorted(set(wanted) - set(loaded)), sorted(set(loaded) - set(wanted))
    change = "; ".join(
        part for part in (f"connected: {', '.join(added)}" if added else "",
                          f"no longer connected: {', '.join(removed)}" if removed else "") if part
    )  # fmt: skip
    at = time.time() if now is None else now
    state = json.loads(context.cursor) if context.cursor else {}
    if state.get("wanted") == wanted and at - float(state.get("at", 0)) < RELOAD_RETRY_S:
        return dg.SkipReason(f"{change}; a reload of the code location was requested, waiting for it")
    context.update_cursor(json.dumps({"wanted": wanted, "at": at}))
    try:
        request_reload()
    except reload.ReloadFailed as error:
        context.log.warning("%s; the code location could not be reloaded: %s", change, error)
        return dg.SkipReason(f"{change}; the reload failed ({error}), trying again in {RELOAD_RETRY_S:.0f} s")
    return dg.SkipReason(f"{change}; the code location was reloaded with the connected shops")


@dg.sensor(minimum_interval_seconds=PARTITIONS_INTERVAL_S, default_status=dg.DefaultSensorStatus.RUNNING)
def shop_partitions(context: dg.SensorEvaluationContext, database: DatabaseResource) -> dg.SkipReason:
    """Reloads the code location when a shop is connected or disconnected: the `shops` partitions are the
    connected shops of `platform_connections` (pipelines.shops)."""
    dagster_url = get_settings().dagster_url
    return reconcile_partitions(
        context, database.get_engine(), shops.LOADED_SHOPS, lambda: reload.reload_code_location(dagster_url)
    )


@dg.run_failure_sensor(default_status=dg.DefaultSensorStatus.RUNNING)
def run_failure_alert(context: dg.RunFailureSensorContext, database: DatabaseResource) -> None:
    """Every failed run opens (or refreshes) an alert: `database_error` when the database failed, else `run_failed`."""
    run = context.dagster_run
    message = context.failure_event.message or "the run failed"
    kind = alerts.DATABASE_ERROR if alerts.is_database_error(None, message) else alerts.RUN_FAILED
    partition = run.tags.get("dagster/partition")
    subject = f"{run.job_name}:{partition}" if partition else run.job_name
    alerts.report_failure(
        database.get_engine(),
        kind,
        subject[:100],
        f"run {run.run_id} of {run.job_name} failed: {message}"[:2000],
        details={"run_id": run.run_id, "job": run.job_name, "partition": partition},
    )


@dg.sensor(minimum_interval_seconds=ALERTS_INTERVAL_S, default_status=dg.DefaultSensorStatus.RUNNING)
def alerts_sensor(context: dg.SensorEvaluationContext, database: DatabaseResource) -> dg.SkipReason:
    """Evaluates the threshold alerts (sync failure rate, quota, webhook backlog) every minute; starts no run.

    A database that does not answer is reported at once (recorded if it still takes writes, else POSTed
    to the alert webhook unrecorded) and remembered in the cursor: the outage is recorded as a
    `database_error` alert on the first evaluation where the database answers again (S9).
    """
    engine = database.get_engine()
    state = json.loads(context.cursor) if context.cursor else {}
    outage = state.get("outage")
    try:
        opened = alerts.evaluate(engine)
    except SQLAlchemyError as error:
        if not outage:
            since = datetime.now(UTC)
            outage = {"since": since.isoformat(), "error": type(error).__name__}
            alerts.report_failure(
                engine, alerts.DATABASE_ERROR, "alerts_sensor", f"the database did not answer: {type(error).__name__}",
                details={"error": type(error).__name__, "down_since": outage["since"]},
            )  # fmt: skip
            context.update_cursor(json.dumps({"outage": outage}))
        return dg.SkipReason(f"the database did not answer ({type(error).__name__}) since {outage['since']}")
    if outage:
        down = dispatch.DatabaseOutage(since=datetime.fromisoformat(outage["since"]), error=str(outage["error"]))
        if dispatch.record_database_outage(engine, "alerts_sensor", down, who="the alerts sensor"):
            context.update_cursor(None)
    return dg.SkipReason(f"{len(opened)} alert(s) opened" if opened else "no new alert")


SENSORS: Final = [outbox_sensor, events_sensor, shop_partitions, run_failure_alert, alerts_sensor]
