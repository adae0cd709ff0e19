"""The review queue and app without a browser: leases, decisions, undo, CSRF, agreement."""

from __future__ import annotations

import json
import re

import pytest
from test_curate_support import review_store

from curate import agreement, curate
from curate.review import create_app
from curate.review.queue import Filters, ReviewError, decide, lease_next, undo_last
from db import open_store
from db.schema import T


@pytest.fixture
def flagged(store, tmp_path, corpus):
    ids = review_store(store, tmp_path / "data", corpus)
    curate(store)
    return ids


def test_leases_never_hand_one_flag_to_two(store, flagged):
    open_n = store.count(T.flags, "status = 'open'")
    assert open_n >= 5
    got = {}
    for name in ("alice", "bob", "carol"):
        got[name] = lease_next(store, name)["id"]
    assert len(set(got.values())) == 3
    # asking again returns the flag one already holds
    assert lease_next(store, "alice")["id"] == got["alice"]
    # ordered by priority: alice got the highest
    top = next(iter(store.db.query(f"select max(priority) as p from {T.flags} "
                                   f"where status = 'open'")))["p"]
    assert store.db[T.flags].get(got["alice"])["priority"] == top
    assert lease_next(store, "dave", Filters(kind="unknown_hardware"))["kind"] == \
        "unknown_hardware"
    # a benchmark filter also finds model-level flags of papers on that benchmark
    erin = lease_next(store, "erin", Filters(benchmark="wmt14-en-fr"))
    assert erin["field"] == "compute_per_pass" and erin["benchmark"] == ""
    assert erin["arxiv_id"] in ("1706.03762", "1409.0473", "1409.3215")


def test_decide_is_idempotent_and_checks_state(store, flagged):
    f = lease_next(store, "alice")
    rid = decide(store, f["id"], "alice", "not_reported", "tok-1")
    assert decide(store, f["id"], "alice", "not_reported", "tok-1") == rid  # double submit
    assert store.count(T.reviews) == 1
    assert store.db[T.flags].get(f["id"])["status"] == "closed"
    with pytest.raises(ReviewError, match="closed meanwhile"):
        decide(store, f["id"], "bob", "not_reported", "tok-2")
    g = lease_next(store, "alice")
    with pytest.raises(ReviewError, match="being reviewed by alice"):
        decide(store, g["id"], "bob", "skip", "tok-3")
    h = lease_next(store, "carol", Filters(field="compute_per_pass", kind="conflict"))
    with pytest.raises(ReviewError, match="parsecs"):
        decide(store, h["id"], "carol", "correct", "tok-4", value=4, unit="parsecs")
    assert store.count(T.reviews) == 1


def test_undo_appends_and_reopens(store, flagged):
    f = lease_next(store, "alice")
    rid = decide(store, f["id"], "alice", "not_reported", "t1")
    assert undo_last(store, "alice", "t2") == f["id"]
    assert undo_last(store, "alice", "t2") == f["id"]  # same token: once
    rows = list(store.db.query(f"select * from {T.reviews} order by id"))
    assert [r["action"] for r in rows] == ["not_reported", "undo"]
    assert rows[1]["undoes"] == rid
    flag = store.db[T.flags].get(f["id"])
    assert flag["status"] == "open" and flag["lease_annotator"] == "alice"


def test_double_review_needs_two_and_kappa(store, flagged):
    store.db.execute(f"update {T.flags} set double_review = 1")
    fields = set()
    for i in range(3):
        f = lease_next(store, "alice")
        decide(store, f["id"], "alice", "not_reported", f"a{i}")
        assert store.db[T.flags].get(f["id"])["status"] == "open"  # waits for a second
        # alice is not given it again; bob gets it
        g = lease_next(store, "alice")
        assert g is None or g["id"] != f["id"]
        if g:
            store.db.execute(f"update {T.flags} set lease_annotator = null where id = ?",
                             [g["id"]])
        b = lease_next(store, "bob", Filters(field=f["field"], kind=f["kind"],
                                            benchmark=f["benchmark"] or None))
        assert b["id"] == f["id"]
        action = "not_reported" if i < 2 else "correct"
        unit = {"compute_per_pass": "GFLOPs", "parameters": "M", "training_time": "hours",
                "hardware": "V100"}.get(f["field"])
        decide(store, f["id"], "bob", action, f"b{i}", value=1.0 if i == 2 else None,
               unit=unit if i == 2 else None)
        assert store.db[T.flags].get(f["id"])["status"] == "closed"
        fields.add(f["field"])
    a = agreement(store)["agreement"]
    assert set(a) == fields
    assert sum(v["n"] for v in a.values()) == 3
    assert any(v["percent"] < 100 for v in a.values())


def test_app_pages_csrf_and_escaping(store, flagged, tmp_path):
    app = create_app(store.path, tmp_path / "data", annotator="alice")
    app.config["TESTING"] = True
    c = app.test_client()
    page = c.get("/queue")
    assert page.status_code == 200 and b"Review queue" in page.data
    r = c.get("/next")
    assert r.status_code == 302
    flag_url = r.headers["Location"]
    html = c.get(flag_url).get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    fid = int(re.search(r"/flag/(\d+)", flag_url).group(1))
    # without the session's CSRF token the POST is refused and nothing is recorded
    bad = c.post(f"/flag/{fid}/decide", data={"action": "skip", "token": token})
    assert bad.status_code == 400 and store.count(T.reviews) == 0
    csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
    ok = c.post(f"/flag/{fid}/decide", data={"action": "skip", "token": token, "csrf": csrf})
    assert ok.status_code == 302 and store.count(T.reviews) == 1
    # the <script> sentence is escaped
    xss = next(iter(store.db.query(
        f"select id from {T.flags} where arxiv_id = '1602.07360' and kind = 'conflict'")))
    html = c.get(f"/flag/{xss['id']}").get_data(as_text=True)
    assert "<script>window.__xss" not in html and "&lt;script&gt;window.__xss" in html
    audit = c.get("/audit").get_data(as_text=True)
    assert "skip" in audit


def test_page_png_marks_value(store, flagged, tmp_path):
    app = create_app(store.path, tmp_path / "data", annotator="alice")
    c = app.test_client()
    conflict = next(iter(store.db.query(
        f"select * from {T.flags} where arxiv_id = '1409.1556' and kind = 'conflict'")))
    cands = json.loads(conflict["candidates"])
    assert cands[0]["page"] == 7
    region = c.get(f"/flag/{conflict['id']}/candidate/1/page.png")
    full = c.get(f"/flag/{conflict['id']}/candidate/1/page.png?full=1")
    assert region.status_code == 200 and region.data[:8] == b"\x89PNG\r\n\x1a\n"
    from io import BytesIO

    from PIL import Image

    rimg, fimg = Image.open(BytesIO(region.data)), Image.open(BytesIO(full.data))
    assert rimg.height < fimg.height and rimg.width == fimg.width
    # the box is drawn in pure-ish red, which the page itself does not use
    import numpy as np

    px = np.asarray(rimg.convert("RGB")).astype(int)
    red = int(((px[..., 0] > 200) & (px[..., 1] < 30) & (px[..., 2] < 30)).sum())
    assert red > 50
    assert c.get(f"/flag/{conflict['id']}/candidate/9/page.png").status_code == 404


def test_status_hook_and_cli(cli_run, tmp_path, corpus):
    db = tmp_path / "s.db"
    s = open_store(db)
    review_store(s, tmp_path / "data", corpus)
    s.close()
    r = cli_run("curate", "--db", db, "--silent")
    assert r.exit_code == 0, r.output
    assert re.search(r"Observations: \d+", r.output) and "open" in r.output
    r = cli_run("status", "--db", db, "--json")
    assert "agreement" in json.loads(r.output)
    r = cli_run("curate", "--db", db, "--pwc", tmp_path / "missing.json")
    assert r.exit_code == 1 and "missing.json" in r.output
    r = cli_run("curate", "--db", db, "--double-review-fraction", "2")
    assert r.exit_code == 2


def test_concurrent_leases_from_threads(store, flagged):
    """Eight annotators asking at the same instant, each on its own connection."""
    import threading

    n_open = store.count(T.flags, "status = 'open'")
    barrier = threading.Barrier(8)
    got: dict[str, int | None] = {}

    def ask(name: str) -> None:
        s = open_store(store.path)
        try:
            barrier.wait()
            f = lease_next(s, name)
            got[name] = f["id"] if f else None
        finally:
            s.close()

    threads = [threading.Thread(target=ask, args=(f"ann{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    ids = [v for v in got.values() if v is not None]
    assert len(got) == 8 and len(ids) == min(8, n_open) and len(set(ids)) == len(ids)


def test_review_command_help(cli_run):
    r = cli_run("review", "--help")
    assert r.exit_code == 0 and "Example:" in r.output and "--annotator" in r.output
