"""Take docs/review.png: the review page on a small demo store, in headless chromium.

Run from the repository root (needs /work-style shared corpus for the PDF, or
DLCOMPUTE_SHARED):  PYTHONPATH=. python docs/review_screenshot.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from playwright.sync_api import sync_playwright  # noqa: E402
from test_curate_support import review_store  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from curate import curate  # noqa: E402
from curate.review import create_app  # noqa: E402
from db import open_store  # noqa: E402
from db.schema import T  # noqa: E402

SHARED = Path(os.environ.get("DLCOMPUTE_SHARED", ROOT.parent / "shared"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main(out: Path = ROOT / "docs" / "review.png") -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        store = open_store(tmp_path / "demo.db")
        review_store(store, tmp_path / "data", SHARED / "corpus" / "pdfs")
        curate(store)
        (flag,) = store.db.query(f"select id from {T.flags} where arxiv_id = '1409.1556' "
                                 f"and kind = 'conflict'")
        store.close()
        store = open_store(tmp_path / "demo.db")
        store.db.execute(f"update {T.flags} set lease_annotator = 'alice', "
                         f"lease_expires = '2999-01-01T00:00:00Z' where id = ?", [flag["id"]])
        store.close()
        app = create_app(tmp_path / "demo.db", tmp_path / "data", annotator="alice")
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
                page = browser.new_page(viewport={"width": 1200, "height": 1500})
                page.goto(f"http://127.0.0.1:{server.server_port}/flag/{flag['id']}")
                page.wait_for_function("() => [...document.images].every(i => i.complete && "
                                       "i.naturalWidth > 0)")
                page.screenshot(path=str(out), full_page=False)
                browser.close()
        finally:
            server.shutdown()
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
