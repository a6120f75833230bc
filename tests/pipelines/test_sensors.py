# Sensors with an ephemeral Dagster instance: runs only for waiting work and never twice for it; partitions; alerts.
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
import sqlalchemy as sa

from assets.resources import DatabaseResource
from connectors.shopee.webhooks import parse_push
from pipelines import sensors
from pipelines.jobs import push_changes
from syncstore.db.engine import transaction
from syncstore.db.models import Alert, OutboxEvent
from syncstore.events import outbox, platform_events
from syncstore.events.webhooks import record_for, store_batch
from syncstore.security import crypto
from syncstore.security.auth import Actor
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


def apply_partition_requests(instance: dg.DagsterInstance, result: dg.SensorExecutionData) -> None:
    for request in result.dynamic_partitions_requests or []:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(request.partitions_def_name, key)


def test_shop_partitions_follow_the_connected_shops(
    engine: sa.Engine, instance: dg.DagsterInstance, database: DatabaseResource
) -> None:
    shopee = connect(engine, "shopee", "7001")
    connect(engine, "tiktokshop", "7494000000000000777")
    result = evaluate(sensors.shop_partitions, instance, database)
    apply_partition_requests(instance, result)
    assert sorted(instance.get_dynamic_partitions("shops")) == ["shopee-7001", "tiktokshop-7494000000000000777"]
    assert evaluate(sensors.shop_partitions, instance, database).dynamic_partitions_requests == []

    with transaction(engine) as session:
        connections.disconnect(Actor.command_line(), session, shopee)
    result = evaluate(sensors.shop_partitions, instance, database)
    apply_partition_requests(instance, result)
    assert instance.get_dynamic_partitions("shops") == ["tiktokshop-7494000000000000777"]


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
