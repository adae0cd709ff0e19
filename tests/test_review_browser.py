"""The review app in a real headless browser (Debian's chromium through Playwright)."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from test_curate_support import review_store

from curate import curate
from curate.review import create_app
from db import open_store
from db.schema import T

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent (install Debian's chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def served(tmp_path, corpus):
    """The app on 127.0.0.1, a free port, in a background thread."""
    from werkzeug.serving import make_server

    db = tmp_path / "review.db"
    store = open_store(db)
    ids = review_store(store, tmp_path / "data", corpus)
    curate(store)
    store.close()
    app = create_app(db, tmp_path / "data")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}", "db": db, "ids": ids}
    server.shutdown()
    thread.join(timeout=10)


def login(browser, base: str, name: str):
    ctx = browser.new_context()
    page = ctx.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{base}/annotator")
    page.fill("#annotator-name", name)
    page.press("#annotator-name", "Enter")
    page.wait_for_url(re.compile(r"/queue"))
    return ctx, page


def flag_id(page) -> int:
    return int(re.search(r"/flag/(\d+)", page.url).group(1))


def rows(db, sql, params=()):
    s = open_store(db)
    try:
        return list(s.db.query(sql, list(params)))
    finally:
        s.close()


def goto_flag(page, base, db, where: str) -> int:
    (f,) = rows(db, f"select id from {T.flags} where {where}")
    page.goto(f"{base}/flag/{f['id']}")
    return f["id"]


def test_keyboard_accept_then_undo(browser, served):
    base, db, ids = served["url"], served["db"], served["ids"]
    ctx, page = login(browser, base, "alice")
    fid = goto_flag(page, base, db, "arxiv_id = '1409.1556' and kind = 'conflict'")
    # the candidate's page region is rendered and loads as an image
    page.wait_for_function("() => [...document.images].every(i => i.complete && "
                           "i.naturalWidth > 0)")
    assert page.locator("mark").first.inner_text() in ("7.3", "6.8")
    page.keyboard.press("2")
    assert "selected" in page.locator("#cand-2").get_attribute("class")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: f"/flag/{fid}" not in url)
    (r,) = rows(db, f"select * from {T.reviews}")
    assert r["action"] == "accept" and r["annotator"] == "alice" and r["flag_id"] == fid
    assert r["fact_id"] == ids["vgg_b"]  # candidate 2: the lower confidence one
    assert rows(db, f"select status from {T.flags} where id = ?", [fid])[0]["status"] == \
        "closed"
    # u undoes it: a new review row, the flag open again and shown
    page.keyboard.press("u")
    page.wait_for_url(re.compile(rf"/flag/{fid}\b"))
    undo = rows(db, f"select * from {T.reviews} order by id")[-1]
    assert undo["action"] == "undo" and undo["undoes"] == r["id"]
    assert rows(db, f"select status from {T.flags} where id = ?", [fid])[0]["status"] == "open"
    # the audit page lists both
    page.goto(f"{base}/audit")
    text = page.locator("#audit").inner_text()
    assert "accept" in text and "undo" in text
    ctx.close()


def test_keyboard_correction_feeds_curate(browser, served):
    base, db = served["url"], served["db"]
    ctx, page = login(browser, base, "bob")
    fid = goto_flag(page, base, db, "arxiv_id = '1706.03762' and kind = 'missing'")
    page.keyboard.press("c")
    page.keyboard.type("2.3")
    page.keyboard.press("Tab")
    page.keyboard.type("GFLOPs")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: f"/flag/{fid}" not in url)
    (r,) = rows(db, f"select * from {T.reviews}")
    assert (r["action"], r["value"], r["unit"]) == ("correct", 2.3, "GFLOPs")
    s = open_store(db)
    curate(s)
    s.close()
    (o,) = rows(db, f"select * from {T.observations} where arxiv_id = '1706.03762'")
    assert o["compute_per_pass"] == pytest.approx(2.3e9)
    assert o["sources"].count(f"review:{r['id']}") == 1
    # a bad unit is refused with a message, nothing recorded
    fid2 = goto_flag(page, base, db, "arxiv_id = '1602.07360' and kind = 'conflict'")
    page.keyboard.press("c")
    page.keyboard.type("5")
    page.keyboard.press("Tab")
    page.keyboard.type("parsecs")
    page.keyboard.press("Enter")
    page.wait_for_selector(".flash")
    assert "parsecs" in page.locator(".flash").inner_text()
    assert len(rows(db, f"select * from {T.reviews} where flag_id = ?", [fid2])) == 0
    ctx.close()


def test_two_annotators_get_different_flags(browser, served):
    base = served["url"]
    ctx_a, a = login(browser, base, "alice")
    ctx_b, b = login(browser, base, "bob")
    a.goto(f"{base}/next")
    b.goto(f"{base}/next")
    a.wait_for_url(re.compile(r"/flag/\d+"))
    b.wait_for_url(re.compile(r"/flag/\d+"))
    assert flag_id(a) != flag_id(b)
    # skipping moves alice on, still never onto bob's flag
    held_by_bob = flag_id(b)
    first = flag_id(a)
    a.keyboard.press("s")
    a.wait_for_url(lambda url: f"/flag/{first}" not in url)
    if "/flag/" in a.url:
        assert flag_id(a) != held_by_bob
    ctx_a.close()
    ctx_b.close()


def test_script_in_paper_text_is_shown_not_run(browser, served):
    base, db = served["url"], served["db"]
    ctx, page = login(browser, base, "carol")
    goto_flag(page, base, db, "arxiv_id = '1602.07360' and kind = 'conflict'")
    assert "<script>window.__xss = 1</script>" in page.locator("body").inner_text()
    assert page.evaluate("() => window.__xss") is None
    ctx.close()
