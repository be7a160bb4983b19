"""The public pages' cost: CPU per request of `/`, `/problems`, `/problems/map`, `/r/<receipt>` and Open311's
`requests.xml`, in one process on the Flask app (no server), over an embedded database of N stored hazards,
some resolved with a public reply and some published.

    python bench/public_pages.py [--cases 2000] [--requests 200]

Prints figures, asserts nothing.
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    from dramatiq.brokers.stub import StubBroker

    from functions.app import create_app
    from minqing.receipts import receipt_for
    from minqing.settings import load_settings
    from minqing.store import changes
    from minqing.store.engine import make_engine, upgrade

    data_dir = tempfile.mkdtemp(prefix="minqing-public-")
    settings = load_settings({"MINQING_DATA_DIR": data_dir, "MINQING_SECRET_KEY": uuid.uuid4().hex * 2,
                              "MINQING_RATE_LIMIT_PER_ADDRESS": "off", "MINQING_RATE_LIMIT_PER_SPOT": "off"})
    engine = make_engine(settings.database_url)
    upgrade(engine)
    report = {"community": "qianjiajie", "category": "lighting", "severity": "medium", "description": "路灯不亮",
              "location": {"address": "千家街省一保小区3栋北侧", "lat": 30.5441, "lon": 114.3062}}
    receipts = []
    with engine.begin() as connection:
        for i in range(args.cases):
            sid = str(uuid.uuid4())
            receipt = receipt_for(settings.secret_key, "hazard", sid)
            data = copy.deepcopy(report)
            data["location"]["lat"] += (i % 50) / 1000
            changes.store_submission(connection, {"id": sid, "receipt": receipt, "kind": "hazard", "data": data,
                                                  "submitted_at": "2026-11-26T03:00:00+00:00", "lang": "zh-CN"})
            if i % 3 == 0:
                changes.transition(connection, sid, "resolve", actor="bench", details={"reply": "已修复"})
            if i % 5 == 0:
                changes.record_step(connection, sid, "publish", actor="bench",
                                    details={"public": True, "public_text": "路灯不亮", "public_photos": []})
            receipts.append(receipt)
    broker = StubBroker()
    broker.declare_queue(settings.queue_name)
    client = create_app(settings, broker=broker).test_client()
    paths = ["/", "/problems", "/problems?c=qianjiajie&s=resolved", "/problems/map", f"/r/{receipts[0]}",
             "/open311/v2/requests.xml", "/open311/v2/servicerequestupdates.xml"]
    print(f"{args.cases} hazards stored; {args.requests} requests a page")
    for path in paths:
        client.get(path)  # warm
        start_cpu, start = time.process_time(), time.perf_counter()
        for _ in range(args.requests if "open311" not in path else max(5, args.requests // 20)):
            response = client.get(path)
        count = args.requests if "open311" not in path else max(5, args.requests // 20)
        cpu = (time.process_time() - start_cpu) / count * 1000
        wall = (time.perf_counter() - start) / count * 1000
        print(f"{path:45s} {response.status_code} {len(response.data):>8,} bytes  {cpu:7.2f} ms CPU  "
              f"{wall:7.2f} ms wall")
    engine.dispose()


if __name__ == "__main__":
    main()
