"""The review app in a real headless browser (Debian's chromium through Playwright)."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest
from review_support import paper_level_store
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
    """The app on 127.0.0.1, a free port, served by waitress in a background thread."""
    import waitress.server

    db = tmp_path / "review.db"
    store = open_store(db)
    ids = review_store(store, tmp_path / "data", corpus)
    ids |= paper_level_store(store)
    curate(store)
    store.close()
    app = create_app(db, tmp_path / "data")
    server = waitress.server.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.effective_port}", "db": db, "ids": ids}
    server.close()
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


def run_curate(db) -> None:
    s = open_store(db)
    try:
        curate(s)
    finally:
        s.close()


def correct(page, value: str, unit: str) -> None:
    """Type a correction by keyboard: c, value, Enter, unit, Enter (focus Save), Enter."""
    page.keyboard.press("c")
    page.keyboard.type(value)
    page.keyboard.press("Enter")
    page.keyboard.type(unit)
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "correct"
    page.keyboard.press("Enter")


def test_keyboard_accept_then_undo(browser, served):
    base, db, ids = served["url"], served["db"], served["ids"]
    ctx, page = login(browser, base, "alice")
    fid = goto_flag(page, base, db, "arxiv_id = '1409.1556' and kind = 'conflict'")
    page.wait_for_function("() => [...document.images].every(i => i.complete && "
                           "i.naturalWidth > 0)")
    assert page.locator("mark").first.inner_text() in ("7.3", "6.8")
    # confidences 0.80 and 0.78 tie: nothing is chosen, so Enter records nothing
    assert page.locator('input[name="candidate"]:checked').count() == 0
    page.keyboard.press("Enter")
    page.wait_for_selector("#no-preselect.problem")
    assert rows(db, f"select * from {T.reviews}") == []
    # the form names the fact, not the candidate's position
    assert page.locator('#cand-2 input').get_attribute("value") == f"fact:{ids['vgg_b']}"
    page.keyboard.press("2")
    assert "selected" in page.locator("#cand-2").get_attribute("class")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: f"/flag/{fid}" not in url)
    (r,) = rows(db, f"select * from {T.reviews}")
    assert r["action"] == "accept" and r["annotator"] == "alice" and r["flag_id"] == fid
    assert r["fact_id"] == ids["vgg_b"]
    assert rows(db, f"select status from {T.flags} where id = ?", [fid])[0]["status"] == \
        "closed"
    page.keyboard.press("u")
    page.wait_for_url(re.compile(rf"/flag/{fid}\b"))
    undo = rows(db, f"select * from {T.reviews} order by id")[-1]
    assert undo["action"] == "undo" and undo["undoes"] == r["id"]
    assert rows(db, f"select status from {T.flags} where id = ?", [fid])[0]["status"] == "open"
    page.goto(f"{base}/audit")
    text = page.locator("#audit").inner_text()
    assert "accept" in text and "undo" in text and "6.8%" in text
    ctx.close()


def test_keyboard_correction_feeds_curate(browser, served):
    base, db = served["url"], served["db"]
    ctx, page = login(browser, base, "bob")
    fid = goto_flag(page, base, db, "arxiv_id = '1706.03762' and kind = 'missing'")
    # Enter in the note box records nothing
    page.click("#note")
    page.keyboard.type("checked table 3")
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    assert f"/flag/{fid}" in page.url and rows(db, f"select * from {T.reviews}") == []
    page.keyboard.press("Escape")
    # Enter in the value and unit boxes moves on, never submits
    page.keyboard.press("c")
    page.keyboard.type("2,300")
    page.keyboard.press("Enter")
    page.keyboard.type("MFLOPs")
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    assert f"/flag/{fid}" in page.url and rows(db, f"select * from {T.reviews}") == []
    assert page.evaluate("() => document.activeElement.id") == "correct"
    page.keyboard.press("Enter")  # on the Save button: that is the explicit action
    page.wait_for_url(lambda url: f"/flag/{fid}" not in url)
    (r,) = rows(db, f"select * from {T.reviews}")
    assert (r["action"], r["value"], r["unit"], r["note"]) == ("correct", 2300.0, "MFLOPs",
                                                               "checked table 3")
    run_curate(db)
    (o,) = rows(db, f"select * from {T.observations} where arxiv_id = '1706.03762'")
    assert o["compute_per_pass"] == pytest.approx(2.3e9)
    assert o["sources"].count(f"review:{r['id']}") == 1
    ctx.close()


BAD = [  # (flag, value, unit, the box that complains, words of its message)
    ("compute", "1e400", "GFLOPs", "value", "too large"),
    ("compute", "inf", "GFLOPs", "value", "not a number"),
    ("compute", "nan", "GFLOPs", "value", "not a number"),
    ("compute", "9" * 400, "GFLOPs", "value", "characters long"),
    ("compute", "-4.5", "GFLOPs", "value", "positive"),
    ("compute", "5e20", "GFLOPs", "value", "physical bounds"),
    ("compute", "1,2,3", "GFLOPs", "value", "thousands"),
    ("compute", "5", "<b>bananas</b>", "unit", "<b>bananas</b>"),
    ("compute", "5", "parsecs", "unit", "parsecs"),
    ("time", "-3", "days", "value", "positive"),
    ("time", "3", "banana days", "unit", "not known"),
    ("chip", "", "FooChip 9000", "unit", "not in the hardware catalog"),
    ("chip", "-4", "V100", "value", "positive"),
    ("chip", "4", "<i>V100</i>", "unit", "not a chip name"),
]
WHERE = {"compute": "arxiv_id = '1602.07360' and kind = 'conflict'",
         "time": "arxiv_id = '1409.1556' and kind = 'missing' and field = 'training_time'",
         "chip": "arxiv_id = '1409.1556' and kind = 'unknown_hardware'"}


def test_every_bad_value_gets_a_message_and_changes_nothing(browser, served):
    base, db = served["url"], served["db"]
    ctx, page = login(browser, base, "carol")
    flags_before = rows(db, f"select id, status, resolution from {T.flags} order by id")
    for which, value, unit, box, words in BAD:
        fid = goto_flag(page, base, db, WHERE[which])
        correct(page, value, unit)
        page.wait_for_selector(f"#problem-{box}")
        message = page.locator(f"#problem-{box}").inner_text()
        assert words in message, (value, unit, message)
        assert page.locator(f"#problem-{box} b, #problem-{box} i").count() == 0  # escaped
        assert page.input_value("#value") == value and page.input_value("#unit") == unit
        assert rows(db, f"select * from {T.reviews}") == [], (value, unit)
        assert f"/flag/{fid}" in page.url
    assert rows(db, f"select id, status, resolution from {T.flags} order by id") == flags_before
    # the app still works for everyone: a good value in thousands is taken
    fid = goto_flag(page, base, db, WHERE["compute"])
    correct(page, "1,234", "MFLOPs")
    page.wait_for_url(lambda url: f"/flag/{fid}" not in url)
    (r,) = rows(db, f"select * from {T.reviews}")
    assert (r["value"], r["unit"]) == (1234.0, "MFLOPs")
    # an unknown chip goes in only by the explicit new-chip box
    fid = goto_flag(page, base, db, WHERE["chip"])
    page.check("#new-chip")
    page.keyboard.press("Escape")  # out of the checkbox: keys are commands again
    correct(page, "4", "FooChip 9000")
    page.wait_for_url(lambda url: f"/flag/{fid}" not in url)
    r = rows(db, f"select * from {T.reviews} order by id")[-1]
    assert r["unit"] == "FooChip 9000" and json.loads(r["after"])["new_chip"] is True
    page.goto(f"{base}/audit")  # listed for the maintainers to add to the catalog
    assert "FooChip 9000 (1)" in page.locator("#new-chips").inner_text()
    ctx.close()


def test_paper_level_answer_changes_exactly_the_listed_observations(browser, served):
    base, db, ids = served["url"], served["db"], served["ids"]
    ctx, page = login(browser, base, "dora")
    # three models, two parameter figures naming none: which model do they belong to?
    fid = goto_flag(page, base, db, "arxiv_id = '1905.11946' and kind = 'missing' and "
                                    "field = 'parameters'")
    listed = {tuple(c.inner_text() for c in tr.locator("td").all()[:3])
              for tr in page.locator("#observations tr").all()[1:]}
    assert {m for m, _, _ in listed} == {"EfficientNet-B0", "EfficientNet-B7"}
    before = {(o["model"], o["benchmark"], o["metric"]): o
              for o in rows(db, f"select * from {T.observations}")}
    assert page.locator('input[name="candidate"]:checked').count() == 0  # 0.80 vs 0.75
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: f"/flag/{fid}" not in url)
    (r,) = rows(db, f"select * from {T.reviews}")
    assert r["fact_id"] == ids["p66"]
    assert sorted(tuple(o[:3]) for o in json.loads(r["before"])["observations"]) == sorted(
        ("1905.11946", m, b) for m, b, _ in listed)
    run_curate(db)
    after = {(o["model"], o["benchmark"], o["metric"]): o
             for o in rows(db, f"select * from {T.observations}")}
    assert set(after) == set(before)
    changed = {k for k, o in after.items() if (o["parameters"], o["sources"]) !=
               (before[k]["parameters"], before[k]["sources"])}
    assert changed == listed
    assert all(after[k]["parameters"] == 66e6 and
               json.loads(after[k]["sources"])["parameters"] == f"review:{r['id']}"
               for k in listed)
    ctx.close()


def test_blind_double_review_and_adjudication(browser, served):
    base, db = served["url"], served["db"]
    s = open_store(db)
    (f,) = s.db.query(f"select id from {T.flags} where {WHERE['compute']}")
    s.db.execute(f"update {T.flags} set double_review = 1 where id = ?", [f["id"]])
    s.close()
    fid = f["id"]
    ctx_a, alice = login(browser, base, "alice")
    alice.goto(f"{base}/flag/{fid}")
    correct(alice, "4.5", "GFLOPs")
    alice.wait_for_url(lambda url: f"/flag/{fid}" not in url)
    ctx_b, bob = login(browser, base, "bob")
    bob.goto(f"{base}/flag/{fid}")
    assert bob.locator("#hidden-reviews").count() == 1
    assert "alice" not in bob.locator("main").inner_text()
    assert bob.locator("#in-force").count() == 0
    bob.goto(f"{base}/audit")
    audit = bob.locator("#audit").inner_text()
    assert "hidden until the double review" in audit and "4.5 GFLOPs" not in audit
    bob.goto(f"{base}/flag/{fid}")
    correct(bob, "0.8", "GFLOPs")
    bob.wait_for_url(lambda url: f"/flag/{fid}" not in url)
    assert rows(db, f"select status from {T.flags} where id = ?", [fid])[0]["status"] == "open"
    # alice cannot settle it by deciding again: the page offers no form
    alice.goto(f"{base}/flag/{fid}")
    assert alice.locator("#decide").count() == 0
    ctx_c, carol = login(browser, base, "carol")
    carol.goto(f"{base}/adjudicate")
    assert carol.locator("#disputes").inner_text().count(str(fid)) >= 1
    carol.click("#adjudicate-next")
    carol.wait_for_url(re.compile(rf"/flag/{fid}\b"))
    sides = carol.locator("#sides").inner_text()
    assert "alice: 4.5 GFLOPs" in sides and "bob: 0.8 GFLOPs" in sides
    correct(carol, "0.8", "GFLOPs")
    carol.wait_for_url(lambda url: f"/flag/{fid}" not in url)
    judged = rows(db, f"select * from {T.reviews} order by id")[-1]
    assert judged["annotator"] == "carol" and judged["role"] == "adjudicator"
    assert rows(db, f"select status from {T.flags} where id = ?", [fid])[0]["status"] == \
        "closed"
    run_curate(db)
    (o,) = rows(db, f"select * from {T.observations} where arxiv_id = '1602.07360'")
    assert json.loads(o["sources"])["compute_per_pass"] == f"review:{judged['id']}"
    # settled: now everyone sees both decisions
    bob.goto(f"{base}/flag/{fid}")
    assert "alice" in bob.locator("#history").inner_text()
    for ctx in (ctx_a, ctx_b, ctx_c):
        ctx.close()


def test_two_annotators_get_different_flags(browser, served):
    base = served["url"]
    ctx_a, a = login(browser, base, "alice")
    ctx_b, b = login(browser, base, "bob")
    a.click("#start")
    b.click("#start")
    a.wait_for_url(re.compile(r"/flag/\d+"))
    b.wait_for_url(re.compile(r"/flag/\d+"))
    assert flag_id(a) != flag_id(b)
    held_by_bob = flag_id(b)
    first = flag_id(a)
    a.keyboard.press("s")
    a.wait_for_url(lambda url: f"/flag/{first}" not in url)
    if "/flag/" in a.url:
        assert flag_id(a) != held_by_bob
    b.click("#release")
    b.wait_for_url(re.compile(r"/queue"))
    assert rows(served["db"], f"select lease_annotator from {T.flags} where id = ?",
                [held_by_bob])[0]["lease_annotator"] is None
    ctx_a.close()
    ctx_b.close()


def test_script_in_paper_text_is_shown_not_run(browser, served):
    base, db = served["url"], served["db"]
    ctx, page = login(browser, base, "carol")
    goto_flag(page, base, db, WHERE["compute"])
    assert "<script>window.__xss = 1</script>" in page.locator("body").inner_text()
    assert page.evaluate("() => window.__xss") is None
    ctx.close()
