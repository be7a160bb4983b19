"""The staff's text search through the bigram index (GIN on PostgreSQL, FTS5 on SQLite) finds exactly the
cases the old unindexed `ILIKE` search found: Chinese words of two characters and more, English in any
case, receipts, and text with LIKE's wildcards; on cases stored by the store path and cases migrated."""

import json
import random
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy import or_, select

from minqing.store import cases, changes
from minqing.store.engine import make_engine, upgrade
from minqing.store.tables import submissions

TEXTS = ["围墙倒塌，有安全隐患", "火车站旁边的路灯不亮", "Water pipe BURST near gate 3", "井盖丢失 manhole cover missing",
         "楼道堆放杂物，消防通道堵塞", "100% 的居民都反映了_这个_问题", "电动车在楼道充电", "墙皮脱落", "Fire exit blocked",
         "小区围栏损坏", "ΣΊΣΥΦΟΣ street lamp", "暖气不热"]
ADDRESSES = ["武昌区首义路12号", "千家街社区东门", "Jiangling Rd. 8", "水运社区3栋", ""]
ENTERPRISES = ["武汉长江科技有限公司", "Yangtze Bakery Co.", "首义路火锅店"]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    url = f"sqlite:///{tmp_path}/t.db" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()


def corpus(count=120, seed=7):
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    for n in range(count):
        kind = rng.choice(("hazard", "enterprise", "consultation"))
        data = {"community": "qianjiajie", "description": rng.choice(TEXTS) + rng.choice(("", "，请尽快处理", " again"))}
        if kind == "hazard":
            data.update(category="road", location={"address": rng.choice(ADDRESSES), "lat": 30.54, "lon": 114.31})
        elif kind == "enterprise":
            data.update(category="finance", enterprise={"name": rng.choice(ENTERPRISES)})
        else:
            data.update(service="legal")
        yield {"id": str(uuid.uuid4()), "receipt": f"MQ{n:06d}X", "kind": kind, "data": data,
               "submitted_at": (start + timedelta(hours=n)).isoformat()}


def old_search(text):
    """The search before the index: three ILIKEs and the receipt, all in one OR."""
    return or_(submissions.c.payload["description"].as_string().icontains(text, autoescape=True),
               submissions.c.payload[("location", "address")].as_string().icontains(text, autoescape=True),
               submissions.c.payload[("enterprise", "name")].as_string().icontains(text, autoescape=True),
               submissions.c.receipt == text.upper())


def queries():
    rng = random.Random(3)
    found = ["围墙", "火车", "楼道", "WATER", "water pipe", "Burst", "mq000007x", "MQ000042X", "100%", "_这个_", "%", "_",
             "墙", "ΣΊΣΥΦΟΣ", "σίσυφος", "gate 3", "不存在的词", "zz", "长江科技", "首义路", "路灯不亮", ". 8", "g6c34"]
    for text in TEXTS + ADDRESSES[:-1] + ENTERPRISES:
        for _ in range(4):
            i = rng.randrange(len(text) - 1)
            found.append(text[i:i + rng.randint(2, 5)])
    return found


def ids(connection, clause):
    return set(connection.execute(select(submissions.c.id).where(clause)).scalars())


def test_the_indexed_search_finds_what_the_old_search_found(store):
    with store.begin() as c:
        for envelope in corpus():
            changes.store_submission(c, envelope)
    with store.connect() as c:
        for q in queries():
            assert ids(c, cases.text_search(q, c.dialect.name)) == ids(c, old_search(q)), q


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_cases_stored_before_the_index_are_found_after_the_migration(request, tmp_path, backend):
    url = f"sqlite:///{tmp_path}/old.db" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    engine = make_engine(url)
    try:
        upgrade(engine, "0007")
        with engine.begin() as c:
            for e in corpus(40):
                c.execute(sa.text(
                    "INSERT INTO submissions (id, receipt, kind, community, category, priority, status, payload, "
                    "body_hash, lang, submitted_at, stored_at, updated_at) VALUES (:id, :receipt, :kind, '', 'road', "
                    "'', 'received', :payload, 'h', 'zh-CN', :at, :at, :at)"),
                    dict(id=e["id"], receipt=e["receipt"], kind=e["kind"], payload=json.dumps(e["data"]),
                         at=datetime.fromisoformat(e["submitted_at"]).replace(tzinfo=None)))
        upgrade(engine)
        with engine.connect() as c:
            located = c.execute(select(submissions.c.lat, submissions.c.lon).where(submissions.c.kind == "hazard")).all()
            assert located and all(row == (30.54, 114.31) for row in located)
            for q in ("围墙", "water", "楼道", "长江", "MQ000003X", "东门"):
                assert ids(c, cases.text_search(q, c.dialect.name)) == ids(c, old_search(q)), q
    finally:
        engine.dispose()


def test_the_lists_counts_with_a_text_filter_stop_past_the_cap(store, monkeypatch):
    with store.begin() as c:
        for envelope in corpus():
            changes.store_submission(c, envelope)
    monkeypatch.setattr(cases, "COUNT_CAP", 10)
    at = datetime.now(timezone.utc)
    with store.connect() as c:
        def exact(q):
            return len(ids(c, cases.text_search(q, c.dialect.name)))

        assert exact("火锅") > 10 and 0 < exact("围墙") <= 10
        counts, complete = cases.status_counts(c, {"q": "火锅"}, sa.true(), at)
        assert sum(counts.values()) == 11 and not complete  # more than 10: stopped there
        assert cases.status_counts(c, {"q": "围墙"}, sa.true(), at) == ({"received": exact("围墙")}, True)
        assert cases.status_counts(c, {"q": "不存在的词"}, sa.true(), at) == ({}, True)
        assert cases.status_counts(c, {}, sa.true(), at) == ({"received": 120}, True)  # no text: exact


@pytest.mark.parametrize("window", [10, 2000])
def test_a_text_searchs_pages_are_the_old_searchs_matches_in_order(store, monkeypatch, window):
    # A small window: common words fill their page from the newest cases, rarer ones go through the index.
    monkeypatch.setattr(cases, "TEXT_WINDOW", window)
    with store.begin() as c:
        for envelope in corpus():
            changes.store_submission(c, envelope)
    at = datetime.now(timezone.utc)
    with store.connect() as c:
        for q in ("围墙", "楼道", "water", "MQ000042X", "ΣΊΣΥΦΟΣ", "不存在的词", "首义路", "路灯不亮"):
            expected = list(c.execute(select(submissions.c.id).where(old_search(q))
                                      .order_by(submissions.c.submitted_at.desc(), submissions.c.id.desc())).scalars())
            walked, cursor = [], None
            while True:
                page, cursor = cases.list_cases(c, {"q": q, "limit": 4, "cursor": cursor}, sa.true(), at)
                walked += [row.id for row in page]
                if cursor is None:
                    break
            assert walked == expected, q


def test_with_the_indexs_statistics_only_the_rarest_tokens_are_looked_up_and_the_results_stay(
        postgres_url, monkeypatch):
    from minqing.domain import search
    from minqing.store import search_index

    monkeypatch.setattr(search_index, "_shares", {})
    monkeypatch.setattr(search_index, "_shares_read_at", [float("-inf")])
    engine = make_engine(postgres_url)
    upgrade(engine)
    with engine.begin() as c:
        for envelope in corpus(count=400):
            changes.store_submission(c, envelope)
        c.exec_driver_sql("ANALYZE submissions")
    at = datetime.now(timezone.utc)
    with engine.connect() as c:
        cases.list_cases(c, {"q": "围墙"}, sa.true(), at)  # learns the shares
        assert search_index._shares, "ANALYZE's most common tokens were not read"
        phrase = search.query_grams("楼道堆放杂物，消防通道堵塞")
        looked_up = search_index.rarest("postgresql", phrase)
        assert len(looked_up) == search_index.INDEXED_TOKENS
        assert max(search_index._shares.get(t, 0) for t in looked_up) <= min(
            search_index._shares.get(t, 0) for t in phrase if t not in looked_up)
        for q in queries() + ["楼道堆放杂物，消防通道堵塞", "火车站旁边的路灯不亮", "武汉长江科技有限公司"]:
            assert ids(c, cases.text_search(q, c.dialect.name)) == ids(c, old_search(q)), q
            expected = list(c.execute(select(submissions.c.id).where(old_search(q))
                                      .order_by(submissions.c.submitted_at.desc(), submissions.c.id.desc())).scalars())
            page, _ = cases.list_cases(c, {"q": q, "limit": 500}, sa.true(), at)
            assert [row.id for row in page] == expected, q
    engine.dispose()
