"""What the console's maps send over the wire: /staff/map and a case page in Chromium at 360 px, first visit
(a fresh browser context) and the next one, tiles counted apart, on the embedded default.

    python bench/map_weight.py [--tiles]

With `--tiles` a local GCJ-02 tile peer (minqing.testing.peers.TilePeer) is configured. Prints figures,
asserts nothing. Budget: 60 KB a page without photos or tiles.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from minqing.testing.live import LiveServer

HAZARDS = json.loads((ROOT / "tests/samples/hazard.json").read_text())["valid"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", action="store_true")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    peer = None
    env = {"MINQING_DATA_DIR": tempfile.mkdtemp(prefix="minqing-map-"), "MINQING_SECRET_KEY": uuid.uuid4().hex,
           "MINQING_QUEUE": "mq_" + uuid.uuid4().hex[:12], "MINQING_RATE_LIMIT_PER_ADDRESS": "off",
           "MINQING_RATE_LIMIT_PER_SPOT": "off"}
    if args.tiles:
        from minqing.testing.peers import TilePeer

        peer = TilePeer("gcj02")
        env.update(peer.env)
    server = LiveServer(env, Path(tempfile.mkdtemp(prefix="minqing-map-logs-")))
    try:
        moved = {**HAZARDS[0], "location": {**HAZARDS[0]["location"], "lat": 30.5450}}
        for report in (HAZARDS[0], HAZARDS[3], moved):
            assert server.post("/api/v1/hazard-reports", json=report).status_code == 202
        link = subprocess.run([sys.executable, "-m", "minqing", "staff", "link", "--staff", "street-leader"],
                              env=server.env, capture_output=True, text=True, check=True).stdout.strip()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
            phone = {"viewport": {"width": 360, "height": 740}}
            context = browser.new_context(**phone)
            page = context.new_page()
            page.goto(link)
            page.click("#confirm")
            page.wait_for_url("**/staff/")
            for _ in range(100):  # until the worker has stored all three
                page.goto(server.url + "/staff/map")
                if page.locator("ul.cases li").count() >= 3:
                    break
                time.sleep(0.3)
            case_url = server.url + page.get_attribute("ul.cases a.r", "href")
            cookies = context.cookies()
            for name, url in (("/staff/map", server.url + "/staff/map"), ("case page", case_url)):
                fresh = browser.new_context(**phone)
                fresh.add_cookies(cookies)
                for visit in ("first visit", "next visit"):
                    probe = fresh.new_page()
                    rows: list[tuple[str, int]] = []
                    probe.on("requestfinished", lambda r, rows=rows: rows.append((r.url, r.sizes()["responseBodySize"])))
                    probe.goto(url, wait_until="networkidle")
                    tiles = [size for u, size in rows if peer and u.startswith(peer.url)]
                    # A file the browser kept answers no body (Playwright reports it as ≤ 0).
                    own = [(u.split("?")[0].rsplit("/", 1)[-1], max(size, 0)) for u, size in rows
                           if not (peer and u.startswith(peer.url))]
                    print(f"{'tiles' if peer else 'no tiles'} · {name} · {visit}: {sum(s for _, s in own):,} B "
                          f"({', '.join(f'{n} {s:,}' for n, s in own)}); {len(tiles)} tiles, {sum(tiles):,} B")
                    probe.close()
                fresh.close()
            browser.close()
    finally:
        server.stop()
        if peer:
            peer.stop()


if __name__ == "__main__":
    main()
