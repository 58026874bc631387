"""Regenerate docs/annotator.png, docs/admin.png and docs/report.png from the demo study in
real chromium.

Run: python docs/screenshots.py  (needs Debian's chromium and the dev extra)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from browser import ADMIN, AppServer, browser, choose, settle, wait_for_pair  # noqa: E402

from reviewer.report.build import build_report  # noqa: E402
from reviewer.report.render import to_html  # noqa: E402
from reviewer.store import Store  # noqa: E402
from reviewer.study.demo import STUDY, create_demo  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.duckdb"
        demo = create_demo(Store(db))
        server = AppServer(db, Path(tmp) / "server.log").start()
        try:
            with browser() as b:
                page = b.new_page(viewport={"width": 1400, "height": 1750})
                page.goto(f"{server.url}/?token={demo.token}")
                wait_for_pair(page, 0, demo.status.annotators[-1].assigned)
                choose(page, "1")
                page.screenshot(path=str(HERE / "annotator.png"))
                admin = b.new_page(viewport={"width": 1400, "height": 1500})
                admin.goto(f"{server.url}/?admin={ADMIN}")
                admin.get_by_text("Human agreement").first.wait_for(timeout=30000)
                settle(admin)
                admin.locator("[data-testid=stDataFrame] canvas").last.wait_for(timeout=30000)
                admin.wait_for_timeout(1500)  # data grids paint on a canvas after layout
                admin.screenshot(path=str(HERE / "admin.png"))
                html = Path(tmp) / "report.html"
                html.write_text(to_html(build_report(Store(db), STUDY)), encoding="utf-8")
                report = b.new_page(viewport={"width": 1100, "height": 1400})
                report.goto(html.as_uri())
                report.screenshot(path=str(HERE / "report.png"))
        finally:
            server.stop()
    print("wrote docs/annotator.png, docs/admin.png and docs/report.png")


if __name__ == "__main__":
    main()
