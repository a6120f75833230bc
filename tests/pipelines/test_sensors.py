# Sensors with an ephemeral Dagster instance: runs only for waiting work and never twice for it; reloads; alerts.
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
import sqlalchemy as sa

from assets.resources import DatabaseResource
from connectors.shopee.webhooks import parse_push
from pipelines import reload, sensors, shops
from pipelines.jobs import push_changes
from syncstore.db.engine import transaction
from syncstore.db.models import Alert, OutboxEvent
from syncstore.events import outbox, platform_events
from syncstore.events.webhooks import record_for, store_batch
from syncstore.security import crypto
from syncstore.security.auth import Actor
from syncstore.settings import get_settings
from syncstore.shops import connections
from syncstore.workers import heartbeats
from tests.syncstore.test_hardening_outage import database_alerts, outage_of

KEYRING = crypto.Keyring.parse(crypto.generate_key("sensors"))


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


@pytest.fixture
def database(engine: sa.Engine) -> DatabaseResource:
    return DatabaseResource(url=engine.url.render_as_string(hide_password=False))


def evaluate(
    sensor: dg.SensorDefinition, instance: dg.DagsterInstance, database: DatabaseResource, cursor: str | None = None
) -> dg.SensorExecutionData:
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"database": database})
    return sensor.evaluate_tick(context)


def publish_outbox_event(engine: sa.Engine, product_id: int = 1) -> None:
    with transaction(engine) as session:
        outbox.publish(session, aggregate_type="product", aggregate_id=product_id, event_type="product.updated",
                       payload={"product_id": product_id, "variant_ids": []})  # fmt: skip


def store_order_event(engine: sa.Engine, order_sn: str) -> None:
    body = json.dumps({"code": 3, "shop_id": 7001, "timestamp": 1_800_000_000,
                       "data": {"ordersn": order_sn, "status": "UNPAID"}}).encode()  # fmt: skip
    store_batch(engine, [record_for(parse_push(body), body, received_at=datetime.now(UTC))])


def test_the_outbox_sensor_requests_a_run_only_for_waiting_work_and_once(
    engine: sa.Engine, instance: dg.DagsterInstance, database: DatabaseResource
) -> None:
    idle = evaluate(sensors.outbox_sensor, instance, database)
    assert idle.run_requests == [] and "no outbox work" in (idle.skip_message or "")

    publish_outbox_event(engine)
    first = evaluate(sensors.outbox_sensor, instance, database)
    [request] = first.run_requests or []
    assert request.run_key and request.run_key.startswith("outbox:")

    # The run has not claimed the event yet: the next tick must not launch it again.
    again = evaluate(sensors.outbox_sensor, instance, database, cursor=first.cursor)
    assert again.run_requests == [] and "already requested" in (again.skip_message or "")

    # New work: a new run.
    publish_outbox_event(engine, product_id=2)
    more = evaluate(sensors.outbox_sensor, instance, database, cursor=first.cursor)
    [second] = more.run_requests or []
    assert second.run_key != request.run_key


def test_work_left_waiting_by_a_dead_run_is_requested_again(
    engine: sa.Engine, instance: dg.DagsterInstance, database: DatabaseResource
) -> None:
    store_order_event(engine, "260101ABC")
    first = evaluate(sensors.events_sensor, instance, database)
    [request] = first.run_requests or []
    assert first.cursor is not None
    stale = json.loads(first.cursor) | {"since": 0.0}
    retried = evaluate(sensors.events_sensor, instance, database, cursor=json.dumps(stale))
    [retry] = retried.run_requests or []
    assert retry.run_key != request.run_key and retry.run_key.endswith(":1")


def test_the_events_sensor_is_idle_once_events_are_handled(
    engine: sa.Engine, instance: dg.DagsterInstance, database: DatabaseResource
) -> None:
    store_order_event(engine, "260101XYZ")
    assert len(evaluate(sensors.events_sensor, instance, database).run_requests or []) == 1
    with transaction(engine) as session:
        platform_events.mark_processed(session, [e.id for e in platform_events.pending(session)])
    assert evaluate(sensors.events_sensor, instance, database).run_requests == []


def connect(engine: sa.Engine, platform: str, shop_id: str) -> int:
    with transaction(engine) as session:
        row = connections.save_connection(
            Actor.command_line(), session, platform=platform, shop_id=shop_id, access_token="a", refresh_token="r",
            access_token_expires_at=None, refresh_token_expires_at=None, keyring=KEYRING,
        )  # fmt: skip
        return row.id


class Reloads:
    """Stands in for the webserver's reload (the real one: tests/browser/test_dagster_launch_browser.py)."""

    def __init__(self, error: str | None = None) -> None:
        self.count = 0
        self.error = error

    def __call__(self) -> None:
        self.count += 1
        if self.error:
            raise reload.ReloadFailed(self.error)


def partitions_tick(
    instance: dg.DagsterInstance, engine: sa.Engine, loaded: list[str], reloads: Reloads, cursor: str | None, at: float
) -> tuple[str, str | None]:
    """One evaluation of the shop_partitions logic: its skip message and the cursor it leaves."""
    context = dg.build_sensor_context(instance=instance, cursor=cursor)
    skip = sensors.reconcile_partitions(context, engine, loaded, reloads, now=at)
    return skip.skip_message or "", context.cursor


def test_a_connected_shop_has_the_code_location_reloaded_once(engine: sa.Engine, instance: dg.DagsterInstance) -> None:
    shopee = connect(engine, "shopee", "7001")
    connect(engine, "tiktokshop", "7494000000000000777")
    reloads = Reloads()

    # Loaded before the TikTok shop was connected: one reload, not one per tick while it happens.
    message, cursor = partitions_tick(instance, engine, ["shopee-7001"], reloads, None, at=1000.0)
    assert reloads.count == 1
    assert "connected: tiktokshop-7494000000000000777" in message and "reloaded" in message
    message, cursor = partitions_tick(instance, engine, ["shopee-7001"], reloads, cursor, at=1030.0)
    assert reloads.count == 1 and "waiting" in message

    # Reloaded: the partitions are the connected shops, nothing to do.
    loaded = ["shopee-7001", "tiktokshop-7494000000000000777"]
    message, cursor = partitions_tick(instance, engine, loaded, reloads, cursor, at=1060.0)
    assert reloads.count == 1 and message == "the partitions are the 2 connected shop(s)"

    # A disconnected shop's partition goes with the next reload.
    with transaction(engine) as session:
        connections.disconnect(Actor.command_line(), session, shopee)
    message, _ = partitions_tick(instance, engine, loaded, reloads, cursor, at=1090.0)
    assert reloads.count == 2 and "no longer connected: shopee-7001" in message


def test_a_failed_reload_is_reported_and_tried_again_later(engine: sa.Engine, instance: dg.DagsterInstance) -> None:
    connect(engine, "shopee", "7001")
    reloads = Reloads(error="the Dagster webserver at http://127.0.0.1:9 did not answer")

    message, cursor = partitions_tick(instance, engine, [], reloads, None, at=1000.0)
    assert reloads.count == 1 and "the reload failed (the Dagster webserver at http://127.0.0.1:9" in message
    partitions_tick(instance, engine, [], reloads, cursor, at=1000.0 + sensors.RELOAD_RETRY_S - 1)
    assert reloads.count == 1
    partitions_tick(instance, engine, [], reloads, cursor, at=1000.0 + sensors.RELOAD_RETRY_S + 1)
    assert reloads.count == 2


def test_the_dynamic_shop_partitions_of_an_older_deployment_are_removed(
    engine: sa.Engine, instance: dg.DagsterInstance
) -> None:
    connect(engine, "shopee", "7001")
    instance.add_dynamic_partitions("shops", ["shopee-7001", "shopee-bogus"])
    reloads = Reloads()

    message, _ = partitions_tick(instance, engine, ["shopee-7001"], reloads, None, at=1000.0)
    assert instance.get_dynamic_partitions("shops") == []
    assert reloads.count == 0 and message == "the partitions are the 1 connected shop(s)"


def test_the_shop_partitions_sensor_asks_the_configured_webserver(
    engine: sa.Engine, instance: dg.DagsterInstance, database: DatabaseResource, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    monkeypatch.setattr(reload, "reload_code_location", lambda url: asked.append(url))
    monkeypatch.setattr(shops, "LOADED_SHOPS", ())
    connect(engine, "shopee", "7001")

    result = evaluate(sensors.shop_partitions, instance, database)
    assert asked == [get_settings().dagster_url]
    assert result.run_requests == [] and "connected: shopee-7001" in (result.skip_message or "")


@dg.op
def broken_step() -> None:
    raise RuntimeError("the platform is on fire")


@dg.job
def broken_job() -> None:
    broken_step()


def test_a_failed_run_opens_an_alert(
    engine: sa.Engine, instance: dg.DagsterInstance, database: DatabaseResource
) -> None:
    result = broken_job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    [failure] = [
        record.get_dagster_event()
        for record in instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    ]
    context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert", dagster_event=failure, dagster_instance=instance,
        dagster_run=result.dagster_run, resources={"database": database},
    ).for_run_failure()  # fmt: skip
    sensors.run_failure_alert(context)
    with transaction(engine) as session:
        [alert] = session.scalars(sa.select(Alert)).all()
    assert (alert.kind, alert.subject, alert.status) == ("run_failed", "broken_job", "open")
    assert result.run_id in alert.message and alert.details["job"] == "broken_job"


def test_the_alerts_sensor_evaluates_thresholds_without_runs(
    engine: sa.Engine, instance: dg.DagsterInstance, database: DatabaseResource
) -> None:
    result = evaluate(sensors.alerts_sensor, instance, database)
    assert result.run_requests == [] and result.skip_message == "no new alert"


def test_the_alerts_sensor_records_a_database_outage_once_the_database_is_back(
    engine: sa.Engine, instance: dg.DagsterInstance, database: DatabaseResource
) -> None:
    with outage_of(database.get_engine()) as outage:
        outage.down.set()
        down = evaluate(sensors.alerts_sensor, instance, database)
        again = evaluate(sensors.alerts_sensor, instance, database, cursor=down.cursor)
        outage.down.clear()
        assert outage.refused > 0 and database_alerts(engine) == []  # nothing could be written while down
        back = evaluate(sensors.alerts_sensor, instance, database, cursor=again.cursor)
    [alert] = database_alerts(engine)
    assert (alert.subject, alert.status) == ("alerts_sensor", "open")
    assert alert.details["error"] == "OperationalError" and "answered again" in alert.message
    # Recorded once: the next evaluations start from a clean cursor.
    assert back.skip_message == "no new alert"
    evaluate(sensors.alerts_sensor, instance, database, cursor=back.cursor)
    assert [a.occurrences for a in database_alerts(engine)] == [alert.occurrences]


# --- the fallback: the events worker is the consumer; the sensors stand in only when it is gone ----------------


def test_the_queue_sensors_stay_quiet_while_the_events_worker_beats(
    engine: sa.Engine, instance: dg.DagsterInstance, database: DatabaseResource
) -> None:
    publish_outbox_event(engine)
    store_order_event(engine, "260101BEAT")
    heartbeats.beat(engine, heartbeats.worker_id())

    for sensor in (sensors.outbox_sensor, sensors.events_sensor):
        result = evaluate(sensor, instance, database)
        assert result.run_requests == []
        assert "the events worker is running (heartbeat " in (result.skip_message or "")


def test_the_queue_sensors_take_over_when_the_heartbeat_is_stale(
    engine: sa.Engine, instance: dg.DagsterInstance, database: DatabaseResource
) -> None:
    publish_outbox_event(engine)
    store_order_event(engine, "260101STALE")
    heartbeats.beat(
        engine, heartbeats.worker_id(), now=datetime.now(UTC) - timedelta(seconds=heartbeats.stale_after_s() + 5)
    )

    assert len(evaluate(sensors.outbox_sensor, instance, database).run_requests or []) == 1
    assert len(evaluate(sensors.events_sensor, instance, database).run_requests or []) == 1


def test_no_run_is_queued_behind_one_that_will_take_the_waiting_work(
    engine: sa.Engine, instance: dg.DagsterInstance, database: DatabaseResource
) -> None:
    publish_outbox_event(engine)
    first = evaluate(sensors.outbox_sensor, instance, database)
    assert len(first.run_requests or []) == 1
    instance.create_run_for_job(job_def=push_changes, status=dg.DagsterRunStatus.STARTED)

    # New work arrives while that run is busy: no run queued behind it; the first tick after it ends takes the work.
    publish_outbox_event(engine, product_id=2)
    result = evaluate(sensors.outbox_sensor, instance, database, cursor=first.cursor)
    assert result.run_requests == [] and "already queued or running" in (result.skip_message or "")


def test_work_not_due_yet_launches_no_run(
    engine: sa.Engine, instance: dg.DagsterInstance, database: DatabaseResource
) -> None:
    publish_outbox_event(engine)
    with transaction(engine) as session:  # a failed attempt backing off
        session.execute(sa.update(OutboxEvent).values(next_attempt_at=datetime.now(UTC) + timedelta(minutes=5)))
    result = evaluate(sensors.outbox_sensor, instance, database)
    assert result.run_requests == [] and "nothing to do" in (result.skip_message or "")


def test_the_recovery_schedule_leaves_the_recovery_to_a_running_events_worker(
    engine: sa.Engine, instance: dg.DagsterInstance, database: DatabaseResource
) -> None:
    from pipelines.schedules import recover_orders_schedule

    def tick() -> object:
        context = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=datetime.now(UTC), resources={"database": database}
        )
        return recover_orders_schedule(context)

    assert isinstance(tick(), dg.RunRequest)  # no worker: Dagster polls the orders
    heartbeats.beat(engine, heartbeats.worker_id())
    skipped = tick()
    assert isinstance(skipped, dg.SkipReason) and "events worker" in (skipped.skip_message or "")
