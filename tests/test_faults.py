"""The reliability suite under load: workers killed, Redis restarted, PostgreSQL stopped. Each test prints a
FIGURE line (sent / accepted / stored / notified / counted / lost / doubled); docs/reliability.md keeps them.

    pytest -m faults -s
"""

import threading
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from minqing.testing.live import LiveServer
from tests.conftest import wait_until
from tests.effects import effects, figure, finished, receipts_stored
from tests.load import Workers, post_reports
from tests.peers import robot_server, smtp_server  # noqa: F401 - fixtures
from tests.private_servers import private_postgres, private_redis  # noqa: F401 - fixtures
from minqing.store.engine import make_engine
from minqing.store.tables import outbox, submissions

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]

SENT_LINE = "minqing.notify: notify"


def in_background(function, *args, **kwargs):
    """Run `function` in a thread; the returned callable joins it and gives its result."""
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("value", function(*args, **kwargs)), daemon=True)
    thread.start()

    def join():
        thread.join()
        return result["value"]
    return join


def test_killing_a_worker_every_few_seconds_loses_nothing(base_env, redis_url, postgres_url, tmp_path):
    total = 2000
    env = {**base_env, "MINQING_BROKER_URL": redis_url, "MINQING_DATABASE_URL": postgres_url}
    server = LiveServer(env, tmp_path, with_worker=False)
    engine = make_engine(postgres_url)
    workers = Workers(env, tmp_path, count=2)
    stop_killing, kills = threading.Event(), []

    def killer():
        # Every 2 s: the workers now drain 2,000 reports in about ten seconds, and the kills must land in it.
        while not stop_killing.wait(2):
            workers.kill_and_replace(len(kills) % 2)
            kills.append(time.monotonic())

    threading.Thread(target=killer, daemon=True).start()
    try:
        outcome = post_reports(server.url, total, prefix="kill")
        # Keep killing while the backlog drains, then let the last workers finish in peace.
        wait_until(lambda: effects(engine)["stored"] >= total, timeout=300, interval=0.5)
        stop_killing.set()
        final = wait_until(lambda: finished(engine, total), timeout=300, interval=0.5)
    finally:
        stop_killing.set()
        workers.stop()
        server.stop()
    lost = len(outcome.receipts - receipts_stored(engine))
    sends = workers.log_lines(SENT_LINE)
    print("\n" + figure("kill -9 every 2 s", sent=total, accepted=outcome.accepted, now=final, lost=lost,
                        extra=f"kills {len(kills)} / sends logged {sends} (repeated {sends - final['notifications']})"))
    assert outcome.accepted == total and lost == 0
    assert final["stored"] == final["counted"] == total and final["doubled"] == 0 and final["dead"] == 0
    assert final["sent"] == final["notifications"] == final["routed"]
    assert len(kills) >= 3
    assert rebuilt_as_counted(engine)


def rebuilt_as_counted(engine) -> bool:
    """A recount from the records (month by month, as `minqing tallies --rebuild`) gives the live tallies,
    durations and rollups."""
    from minqing.store import counts, recount
    from minqing.testing.tallies import counted

    def snapshot():
        return counted(engine)

    live = snapshot()
    with engine.connect() as c:
        periods = recount.periods(c, None, None)
    for since, until in periods:
        with engine.begin() as c:
            counts.rebuild_tallies(c, since, until)
    return snapshot() == live


def through_an_outage(env, tmp_path, total: int, prefix: str, outage, **posting):
    """Post `total` reports while 2 workers process them; `outage()` runs once 100 are stored. Returns the
    clients' outcome, the final effects, the number of accepted submissions lost, and the workers."""
    server = LiveServer(env, tmp_path, with_worker=False)
    engine = make_engine(env["MINQING_DATABASE_URL"])
    workers = Workers(env, tmp_path, count=2)
    try:
        clients = in_background(post_reports, server.url, total, prefix=prefix, pace=0.02, **posting)
        wait_until(lambda: effects(engine)["stored"] >= 100, timeout=120, interval=0.2)
        outage()
        outcome = clients()
        final = wait_until(lambda: finished(engine, outcome.accepted), timeout=300, interval=0.5)
        lost = len(outcome.receipts - receipts_stored(engine))
    finally:
        workers.stop()
        server.stop()
        engine.dispose()
    return outcome, final, lost, workers


def test_a_redis_restart_loses_no_accepted_submission(private_redis, postgres_url, base_env, tmp_path):
    total = 600
    env = {**base_env, "MINQING_BROKER_URL": private_redis.url, "MINQING_DATABASE_URL": postgres_url,
           "MINQING_MAX_RETRIES": "20", "MINQING_MAX_BACKOFF_MS": "2000"}

    def restart_redis():
        private_redis.kill()
        time.sleep(3)
        private_redis.start()

    outcome, final, lost, _ = through_an_outage(env, tmp_path, total, "redis", restart_redis, retry_for=90)
    answers = dict(sorted(outcome.statuses.items(), key=str))
    print("\n" + figure("Redis kill -9 and restart (AOF)", sent=total, accepted=outcome.accepted, now=final,
                        lost=lost, extra=f"answers {answers} / clients that gave up {outcome.gave_up}"))
    assert outcome.statuses[500] == 0
    assert outcome.statuses[503] > 0, "the outage should have met some requests"
    assert outcome.accepted == total and outcome.gave_up == 0, "every client retrying its key got through"
    assert lost == 0 and final["stored"] == final["counted"] == total and final["doubled"] == 0


def test_postgres_down_for_ten_seconds_workers_retry_and_catch_up(private_postgres, redis_url, base_env, tmp_path):
    total = 600
    env = {**base_env, "MINQING_BROKER_URL": redis_url, "MINQING_DATABASE_URL": private_postgres.url,
           "MINQING_MAX_RETRIES": "30", "MINQING_MAX_BACKOFF_MS": "2000"}

    def stop_postgres_for_ten_seconds():
        private_postgres.stop("immediate")
        time.sleep(10)
        private_postgres.start()

    outcome, final, lost, workers = through_an_outage(env, tmp_path, total, "pg", stop_postgres_for_ten_seconds)
    retried, sends = workers.log_lines("Retrying message"), workers.log_lines(SENT_LINE)
    print("\n" + figure("PostgreSQL stopped 10 s", sent=total, accepted=outcome.accepted, now=final, lost=lost,
                        extra=f"answers {dict(outcome.statuses)} / retries logged {retried} / sends logged {sends} "
                              f"(repeated {sends - final['notifications']})"))
    assert outcome.statuses[500] == 0
    assert lost == 0 and final["stored"] == final["counted"] == outcome.accepted == total
    assert final["doubled"] == 0 and final["dead"] == 0
    assert retried > 0, "the outage should have made workers retry"
    assert sends == final["notifications"], "no worker died: a send the outage kept from its record is not repeated"


def all_delivered(engine, stored: int, notifications: int):
    """The effects once every submission is stored and counted and every notification has been sent, by its
    own channel or by the one it fell back to; else None."""
    now = effects(engine)
    with engine.connect() as c:
        unsent = c.execute(select(func.count()).select_from(outbox).where(
            (outbox.c.status == "pending") | ((outbox.c.status == "failed") & outbox.c.superseded_by.is_(None)))
        ).scalar_one()
    done = now["stored"] >= stored and now["counted"] >= stored and now["notifications"] >= notifications
    return now if done and unsent == 0 else None


# Two staff members of one community, each told by a WeCom robot that fails half the time, with e-mail as
# the next channel in case a robot stays down through every retry.
FLAKY_DIRECTORY = """
[street]
code = "shouyilu"
name = { zh = "首义路街道", en = "Shouyilu" }
fallback = ["street-duty"]

[[communities]]
code = "qianjiajie"
name = { zh = "千家街社区", en = "Qianjiajie" }
fallback = "street-duty"
chain = ["qjj-grid", "qjj-secretary"]

[[staff]]
id = "qjj-grid"
name = "王网格员"
role = "community"
communities = ["qianjiajie"]
channels = [{ type = "wecom", webhook_env = "TEST_WECOM_GRID" }, { type = "smtp", to = "grid@qjj.example" }]

[[staff]]
id = "qjj-secretary"
name = "杨书记"
role = "community"
communities = ["qianjiajie"]
channels = [{ type = "wecom", webhook_env = "TEST_WECOM_SECRETARY" }, { type = "smtp", to = "sec@qjj.example" }]

[[staff]]
id = "street-duty"
name = "街道值班室"
role = "street"
channels = [{ type = "log" }]

[[rules]]
kind = "hazard"
community = "qianjiajie"
assignees = ["qjj-grid", "qjj-secretary"]
"""
ROBOTS = {"qjj-grid": "/wecom/grid", "qjj-secretary": "/wecom/secretary"}


def test_a_robot_failing_half_the_time_still_gets_every_notification_exactly_once(
        robot_server, smtp_server, redis_url, postgres_url, base_env, tmp_path):
    total, budget = 300, 20
    directory = tmp_path / "directory.toml"
    directory.write_text(FLAKY_DIRECTORY)
    env = {**base_env, "MINQING_BROKER_URL": redis_url, "MINQING_DATABASE_URL": postgres_url,
           "MINQING_DIRECTORY": str(directory), **smtp_server.env(),
           **{f"TEST_WECOM_{staff.split('-')[1].upper()}": f"{robot_server.url}{path}?key=robot-key"
              for staff, path in ROBOTS.items()},
           # 21 attempts against a coin toss: all fail for one notification with odds 2⁻²¹ (about 3 in 10,000
           # for the run's 600), so a fallback here would almost surely be a bug; one is allowed only after
           # every attempt failed. The robots' per-minute quota is not under test: lifted.
           "MINQING_NOTIFY_MAX_RETRIES": str(budget), "MINQING_ROBOT_PER_MINUTE": "1000000"}
    for path in ROBOTS.values():
        robot_server.flaky(path, 0.5)
    reports = [{"community": "qianjiajie", "category": "lighting", "description": f"千家街{i}号楼前路灯不亮，晚上很黑。",
                "location": {"address": f"千家街{i}号楼前"}} for i in range(total)]
    server = LiveServer(env, tmp_path, with_worker=False)
    engine = make_engine(postgres_url)
    workers = Workers(env, tmp_path, count=2)
    try:
        outcome = post_reports(server.url, total, prefix="flaky", reports=reports)
        final = wait_until(lambda: all_delivered(engine, total, notifications=2 * total), timeout=300, interval=0.5)
        with engine.connect() as c:
            rows = c.execute(select(outbox, submissions.c.receipt)
                             .join(submissions, submissions.c.id == outbox.c.submission_id)).all()
        lost = len(outcome.receipts - receipts_stored(engine))
    finally:
        workers.stop()
        server.stop()
        engine.dispose()

    def received(records):  # each robot request, named by the notification it carried: (robot, receipt)
        def receipt(content):
            return next((t for t in outcome.receipts if t in content), None)
        return Counter((r["path"], receipt(r["json"]["markdown"]["content"])) for r in records)

    delivered, refused = received(robot_server.received), received(robot_server.failed)
    expected = {(ROBOTS[row.recipient], row.receipt) for row in rows if row.channel == "wecom"}
    fell_back = [row for row in rows if row.status == "failed"]
    by_id = {row.id: row for row in rows}
    sent_by_robot = {(ROBOTS[row.recipient], row.receipt) for row in rows
                     if row.channel == "wecom" and row.status == "sent"}
    print("\n" + figure("WeCom robots answering 500 to half the requests", sent=total, accepted=outcome.accepted,
                        now=final, lost=lost,
                        extra=f"robot answers 200 × {len(robot_server.received)}, 500 × {len(robot_server.failed)} / "
                              f"most attempts for one notification {max(row.attempts for row in rows)} / "
                              f"fell back to e-mail {len(fell_back)} / e-mails {len(smtp_server.messages)}"))
    assert outcome.accepted == total and lost == 0
    assert final["stored"] == final["counted"] == total and final["doubled"] == 0 and final["dead"] == 0
    assert len(expected) == 2 * total, "each report is one notification to each of the two staff"
    assert len(robot_server.failed) > total / 2, "the robots should have failed about half the requests"
    # Exactly once: every notification the robots took, they took once, and the robots took no other.
    assert set(delivered) == sent_by_robot and set(delivered.values()) == {1}
    # Each row's attempts are what the robot saw: every 500 counted, no send unrecorded.
    for row in rows:
        if row.channel == "wecom":
            key = (ROBOTS[row.recipient], row.receipt)
            assert row.attempts == refused[key] + delivered[key], row
    # A fallback only after every attempt failed, and then the e-mail went out once instead.
    for row in fell_back:
        successor = by_id[row.superseded_by]
        assert row.attempts == budget + 1 and (successor.channel, successor.status) == ("smtp", "sent"), row
    assert all(row.status == "sent" for row in rows if row not in fell_back)
    assert len(smtp_server.messages) == len(fell_back)
