"""The review queue and app without a browser: leases, decisions, revisions, undo,
double review and adjudication, CSRF, Host names and tokens, evidence, agreement."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import threading

import pytest
from review_support import Browser, paper_level_store
from test_curate_support import add_fact, add_hardware, review_store

from curate import agreement, curate
from curate.decisions import decisions_in_force as effective_decisions
from curate.review import create_app
from curate.review.guard import Guard
from curate.review.queue import (
    Filters,
    Policy,
    ReviewError,
    claim,
    decide,
    lease_next,
    undo,
    undo_last,
)
from db import open_store
from db.schema import T


@pytest.fixture
def flagged(store, tmp_path, corpus):
    ids = review_store(store, tmp_path / "data", corpus)
    curate(store)
    return ids


def flag_where(store, where: str) -> dict:
    (f,) = store.db.query(f"select * from {T.flags} where {where}")
    return f


def leased(store) -> list[int]:
    return [r["id"] for r in store.db.query(
        f"select id from {T.flags} where lease_annotator is not null")]


def test_leases_never_hand_one_flag_to_two(store, flagged):
    open_n = store.count(T.flags, "status = 'open'")
    assert open_n >= 5
    got = {name: lease_next(store, name)["id"] for name in ("alice", "bob", "carol")}
    assert len(set(got.values())) == 3
    assert lease_next(store, "alice")["id"] == got["alice"]  # the one she holds
    top = next(iter(store.db.query(f"select max(priority) as p from {T.flags} "
                                   f"where status = 'open'")))["p"]
    assert store.db[T.flags].get(got["alice"])["priority"] == top
    assert lease_next(store, "dave", Filters(kind="unknown_hardware"))["kind"] == \
        "unknown_hardware"
    # a benchmark filter also finds model-level flags of papers on that benchmark
    erin = lease_next(store, "erin", Filters(benchmark="wmt14-en-fr"))
    assert erin["field"] == "compute_per_pass" and erin["benchmark"] == ""
    assert erin["arxiv_id"] in ("1706.03762", "1409.0473", "1409.3215")


def test_expired_and_released_leases_free_the_flag(store, flagged):
    f = lease_next(store, "bob")
    assert not claim(store, f["id"], "alice")
    store.db.execute(f"update {T.flags} set lease_expires = '2000-01-01T00:00:00Z' "
                     f"where id = ?", [f["id"]])
    assert claim(store, f["id"], "alice")  # bob's lease ran out: back in the queue
    assert decide(store, f["id"], "alice", "not_reported", "t1")
    with pytest.raises(ReviewError, match="closed meanwhile"):
        decide(store, f["id"], "bob", "not_reported", "t2")


def test_skipped_flags_come_back_after_the_others(store, flagged):
    first = lease_next(store, "alice")
    decide(store, first["id"], "alice", "skip", "s0")
    seen = []
    for i in range(20):
        f = lease_next(store, "alice")
        if f is None or f["id"] == first["id"]:
            break
        seen.append(f["id"])
        decide(store, f["id"], "alice", "not_reported", f"d{i}")
    assert seen and first["id"] not in seen
    assert f is not None and f["id"] == first["id"]  # once the others are done, not never


def test_decide_is_idempotent_and_checks_state(store, flagged):
    f = lease_next(store, "alice")
    rid = decide(store, f["id"], "alice", "not_reported", "tok-1")
    assert decide(store, f["id"], "alice", "not_reported", "tok-1") == rid  # double submit
    assert store.count(T.reviews) == 1
    assert store.db[T.flags].get(f["id"])["status"] == "closed"
    g = lease_next(store, "alice")
    with pytest.raises(ReviewError, match="being reviewed by alice"):
        decide(store, g["id"], "bob", "skip", "tok-3")
    h = lease_next(store, "carol", Filters(field="compute_per_pass", kind="conflict"))
    with pytest.raises(ReviewError, match="parsecs") as e:
        decide(store, h["id"], "carol", "correct", "tok-4", value="1e400", unit="parsecs")
    assert set(e.value.problems) == {"value", "unit"}
    # a fact that is not among the flag's candidates is refused
    with pytest.raises(ReviewError, match="not a candidate"):
        decide(store, h["id"], "carol", "accept", "tok-5", fact_id=flagged["vgg_a"],
               value=7.3, unit="percent")
    assert store.count(T.reviews) == 1


def test_any_past_decision_can_be_undone_or_changed(store, flagged):
    a = lease_next(store, "alice")
    ra = decide(store, a["id"], "alice", "not_reported", "a1")
    b = lease_next(store, "alice")
    decide(store, b["id"], "alice", "not_reported", "b1")
    # undo the older one, not the latest
    assert undo(store, "alice", "u1", ra) == a["id"]
    assert store.db[T.flags].get(a["id"])["status"] == "open"
    with pytest.raises(ReviewError, match="no longer in force"):
        undo(store, "alice", "u2", ra)
    assert undo_last(store, "alice", "u3") == b["id"]
    # change a closed flag's decision by a new one naming it
    rb = decide(store, b["id"], "alice", "not_reported", "b2")
    with pytest.raises(ReviewError, match="only they or an adjudicator"):
        decide(store, b["id"], "bob", "not_reported", "x", revises=rb)
    fld = store.db[T.flags].get(b["id"])["field"]
    value, unit = {"compute_per_pass": ("4.1", "GFLOPs"), "hardware": ("", "V100"),
                   "training_time": ("3", "days")}.get(fld, ("7.1", "%"))
    rc = decide(store, b["id"], "alice", "correct", "b3", value=value, unit=unit, revises=rb)
    assert store.db[T.reviews].get(rc)["undoes"] == rb
    assert effective_decisions(store)[b["id"]].review_id == rc
    assert store.db[T.flags].get(b["id"])["status"] == "closed"
    # an adjudicator may change anyone's decision
    boss = Policy(frozenset({"boss"}))
    rd = decide(store, b["id"], "boss", "not_reported", "b4", revises=rc, policy=boss)
    assert effective_decisions(store)[b["id"]].review_id == rd


def test_double_review_is_blind_and_adjudicated(store, flagged):
    f = flag_where(store, "arxiv_id = '1602.07360' and kind = 'conflict'")
    store.db.execute(f"update {T.flags} set double_review = 1 where id = ?", [f["id"]])
    assert claim(store, f["id"], "alice")
    decide(store, f["id"], "alice", "correct", "a", value="4.5", unit="GFLOPs")
    assert store.db[T.flags].get(f["id"])["status"] == "open"  # waits for a second
    assert lease_next(store, "alice", Filters(kind="conflict", field="compute_per_pass")) is None
    assert lease_next(store, "bob", Filters(kind="conflict", field="compute_per_pass"))["id"] \
        == f["id"]
    decide(store, f["id"], "bob", "correct", "b", value="0.8", unit="GFLOPs")
    flag = store.db[T.flags].get(f["id"])
    assert flag["status"] == "open" and f["id"] not in effective_decisions(store)
    # nobody's last word: the flag waits for an adjudicator who did not decide it
    assert lease_next(store, "dave", Filters(kind="conflict", field="compute_per_pass")) is None
    assert lease_next(store, "alice", adjudicate=True) is None
    with pytest.raises(ReviewError, match="awaits an adjudicator"):
        decide(store, f["id"], "bob", "correct", "b2", value="4.5", unit="GFLOPs")
    assert lease_next(store, "carol", adjudicate=True)["id"] == f["id"]
    rc = decide(store, f["id"], "carol", "correct", "c", value="0.8", unit="GFLOPs")
    assert store.db[T.reviews].get(rc)["role"] == "adjudicator"
    assert store.db[T.flags].get(f["id"])["status"] == "closed"
    assert effective_decisions(store)[f["id"]].review_id == rc
    # bob changing his mind afterwards does not unsettle the adjudication
    bob = store.db.execute(f"select id from {T.reviews} where annotator = 'bob' and "
                           f"action = 'correct'").fetchone()[0]
    decide(store, f["id"], "bob", "correct", "b3", value="9", unit="GFLOPs", revises=bob)
    assert effective_decisions(store)[f["id"]].review_id == rc
    curate(store)
    (o,) = store.db.query(f"select * from {T.observations} where arxiv_id = '1602.07360'")
    assert o["compute_per_pass"] == pytest.approx(0.8e9)
    assert json.loads(o["sources"])["compute_per_pass"] == f"review:{rc}"
    a = agreement(store)["agreement"]["compute_per_pass"]
    assert a["n"] == 1 and a["percent"] == 0.0 and {"kappa_low", "kappa_high"} <= set(a)


def test_app_pages_csrf_and_escaping(store, flagged, tmp_path):
    app = create_app(store.path, tmp_path / "data", annotator="alice")
    b = Browser(app)
    page = b.get("/queue")
    assert page.status_code == 200 and "Review queue" in b.html
    assert b.get("/next").status_code == 200 and leased(store) == []  # GET takes nothing
    r = b.post("/next", {})
    assert r.status_code == 302 and leased(store)
    fid = int(re.search(r"/flag/(\d+)", r.headers["Location"]).group(1))
    b.get(f"/flag/{fid}")
    token = b.field("token")
    bad = b.c.post(f"/flag/{fid}/decide", data={"action": "skip", "token": token})
    assert bad.status_code == 400 and store.count(T.reviews) == 0
    ok = b.post(f"/flag/{fid}/decide", {"action": "skip", "token": token})
    assert ok.status_code == 302 and store.count(T.reviews) == 1
    xss = flag_where(store, "arxiv_id = '1602.07360' and kind = 'conflict'")
    html = b.get(f"/flag/{xss['id']}").get_data(as_text=True)
    assert "<script>window.__xss" not in html and "&lt;script&gt;window.__xss" in html
    assert "skip" in b.get("/audit").get_data(as_text=True)


def test_get_and_head_take_no_lease(store, flagged, tmp_path):
    app = create_app(store.path, tmp_path / "data", annotator="alice")
    c = app.test_client()
    ids = [r["id"] for r in store.db.query(f"select id from {T.flags}")]
    urls = ["/", "/queue", "/next", "/adjudicate", "/audit", *[f"/flag/{i}" for i in ids]]
    for url in urls:
        assert c.get(url).status_code in (200, 302), url
        assert c.head(url).status_code in (200, 302), url
    assert leased(store) == []
    b = Browser(app)
    b.get(f"/flag/{ids[0]}")
    assert b.post(f"/flag/{ids[0]}/claim", {}).status_code == 302
    assert leased(store) == [ids[0]]
    b.post(f"/flag/{ids[0]}/release", {})
    assert leased(store) == []


def test_foreign_host_is_refused_by_the_real_server(store, flagged, tmp_path):
    from werkzeug.serving import make_server

    app = create_app(store.path, tmp_path / "data", annotator="alice")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        def status(host: str) -> int:
            conn = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=10)
            conn.request("GET", "/queue", headers={"Host": host})
            code = conn.getresponse().status
            conn.close()
            return code

        port = server.server_port
        assert status(f"127.0.0.1:{port}") == 200 and status(f"localhost:{port}") == 200
        for foreign in ("evil.example", f"evil.example:{port}", "127.0.0.1.nip.io",
                        f"localhost.evil.example:{port}"):
            assert status(foreign) == 400, foreign
    finally:
        server.shutdown()


def test_token_beyond_loopback(store, flagged, tmp_path):
    guard = Guard.for_bind("0.0.0.0", ["review.lab.example"])
    assert guard.token and guard.exposed
    app = create_app(store.path, tmp_path / "data", annotator="alice", guard=guard)
    c = app.test_client()
    r = c.get("/queue")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert c.get("/queue?token=wrong").status_code == 302
    assert c.get("/queue", headers={"Host": "review.lab.example"}).status_code == 302
    assert c.get("/queue", headers={"Host": "other.example"}).status_code == 400
    r = c.get(f"/queue?token={guard.token}")
    assert r.status_code == 302 and "token" not in r.headers["Location"]
    assert c.get("/queue").status_code == 200  # the session carries it from now on
    other = app.test_client()
    assert other.get("/queue", headers={"Authorization": f"Bearer {guard.token}"}
                     ).status_code == 200
    login = other.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', login.get_data(as_text=True)).group(1)
    assert other.post("/login", data={"csrf": csrf, "access_token": "nope"}).status_code == 401


def test_cli_review_beyond_loopback_warns_and_wants_the_token(tmp_path, corpus):
    import os
    import socket
    import subprocess
    import sys
    import time

    db = tmp_path / "r.db"
    s = open_store(db)
    review_store(s, tmp_path / "data", corpus)
    curate(s)
    s.close()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "dlcompute", "review", "--db", str(db), "--data-dir",
         str(tmp_path / "data"), "--host", "0.0.0.0", "--port", str(port)],
        stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, "DLCOMPUTE_REVIEW_TOKEN": ""})
    try:
        lines = []
        while not any("Review app on" in x for x in lines):
            line = proc.stderr.readline()
            assert line, "".join(lines)
            lines.append(line)
        text = "".join(lines)
        assert "Warning" in text and "token" in text
        token = re.search(r"\?token=(\S+)", text).group(1)
        for _ in range(100):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/queue")
                first = conn.getresponse()
                break
            except ConnectionRefusedError:
                time.sleep(0.1)
        assert first.status == 302 and "/login" in first.getheader("Location")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/queue", headers={"Authorization": f"Bearer {token}"})
        assert conn.getresponse().status == 200
    finally:
        proc.kill()
        proc.wait(10)


def test_an_invalid_stored_review_breaks_nothing(store, flagged, tmp_path):
    bad = flag_where(store, "arxiv_id = '1602.07360' and kind = 'conflict'")
    for value, unit, after in ((float("inf"), "GFLOPs", '{"value": Infinity, "token": "x"}'),
                               (1e300, "GFLOPs", "{}"), (5.0, "<b>bananas</b>", "not json")):
        store.db[T.reviews].insert({"flag_id": bad["id"], "annotator": "mallory",
                                    "action": "correct", "value": value, "unit": unit,
                                    "after": after, "before": "{"})
    store.db.execute(f"update {T.flags} set status = 'closed' where id = ?", [bad["id"]])
    # other hand edits a page reads: a flag's candidates and an observation's sources
    broken = flag_where(store, "arxiv_id = '1409.3215'")
    store.db.execute(f"update {T.flags} set candidates = '[{{' where id = ?", [broken["id"]])
    store.db.execute(f"update {T.observations} set sources = 'nonsense' "
                     f"where arxiv_id = '1409.3215'")
    app = create_app(store.path, tmp_path / "data")
    alice = Browser(app, "alice")
    ids = [r["id"] for r in store.db.query(f"select id from {T.flags}")]
    for url in ["/queue", "/next", "/adjudicate", "/audit", *[f"/flag/{i}" for i in ids]]:
        assert alice.get(url).status_code == 200, url
    page = alice.get(f"/flag/{bad['id']}").get_data(as_text=True)
    assert page.count("cannot be used") == 3 and "&lt;b&gt;bananas" in page
    other = flag_where(store, "arxiv_id = '1706.03762' and kind = 'missing'")
    assert alice.decide(other["id"], "not_reported").status_code == 302
    assert store.db[T.flags].get(other["id"])["status"] == "closed"
    assert alice.post("/undo", {"token": "undo-1"}).status_code == 302
    assert store.db[T.flags].get(other["id"])["status"] == "open"
    assert alice.decide(broken["id"], "not_reported").status_code == 302
    assert store.db[T.flags].get(broken["id"])["status"] == "closed"
    summary = curate(store)
    assert not summary.errors
    assert store.db[T.flags].get(bad["id"])["status"] == "open"  # reopened: no usable decision
    assert all(o["compute_per_pass"] is None or o["compute_per_pass"] < 1e17
               for o in store.db.query(f"select * from {T.observations}"))


def test_page_png_marks_value(store, flagged, tmp_path):
    from io import BytesIO

    import numpy as np
    from PIL import Image

    app = create_app(store.path, tmp_path / "data", annotator="alice")
    c = app.test_client()
    conflict = flag_where(store, "arxiv_id = '1409.1556' and kind = 'conflict'")
    cands = json.loads(conflict["candidates"])
    assert cands[0]["page"] == 7
    region = c.get(f"/fact/{cands[0]['fact_id']}/page.png")
    full = c.get(f"/fact/{cands[0]['fact_id']}/page.png?full=1")
    assert region.status_code == 200 and region.data[:8] == b"\x89PNG\r\n\x1a\n"
    rimg, fimg = Image.open(BytesIO(region.data)), Image.open(BytesIO(full.data))
    assert rimg.height < fimg.height and rimg.width == fimg.width
    px = np.asarray(rimg.convert("RGB")).astype(int)
    red = int(((px[..., 0] > 200) & (px[..., 1] < 30) & (px[..., 2] < 30)).sum())
    assert red > 50  # the box, in a red the page itself does not use
    assert c.get("/fact/999999/page.png").status_code == 404
    assert c.get("/paper/1409.1556/page/99.png").status_code == 404


def test_missing_value_shows_where_the_extractor_looked(store, flagged, tmp_path):
    app = create_app(store.path, tmp_path / "data", annotator="alice")
    c = app.test_client()
    f = flag_where(store, "arxiv_id = '1409.1556' and kind = 'missing' and "
                          "field = 'training_time'")
    html = c.get(f"/flag/{f['id']}").get_data(as_text=True)
    assert "Where the extractor looked" in html and "10 pages" in html
    # the chip statement that also gives the time (the question is the paper's: curate
    # asks once per paper for hardware without a training time)
    assert "training a single net took 2–3 weeks" in html
    assert f["model"] == ""
    images = re.findall(r'<img src="([^"]+)"', html)
    assert any(u.startswith(f"/fact/{flagged['titan']}/") for u in images)
    assert any(u.startswith("/paper/1409.1556/page/") for u in images)
    for url in images:
        r = c.get(url.replace("&amp;", "&"))
        assert r.status_code == 200 and r.data[:4] == b"\x89PNG", url
    for i in [r["id"] for r in store.db.query(f"select id from {T.flags}")]:
        assert "arxiv.org" not in c.get(f"/flag/{i}").get_data(as_text=True)


def test_title_from_the_pdf_when_the_metadata_has_none(store, flagged, tmp_path, corpus):
    app = create_app(store.path, tmp_path / "data", annotator="alice")
    c = app.test_client()
    shutil.copy(corpus / "1706.03762.pdf", tmp_path / "data" / "pdfs" / "1706.03762.pdf")
    store.db[T.pdfs].insert({"arxiv_id": "1706.03762", "version": 5, "sha256": "x",
                             "path": "pdfs/1706.03762.pdf", "status": "ok"})
    store.db.execute(f"update {T.papers} set title = null where arxiv_id = '1706.03762'")
    f = flag_where(store, "arxiv_id = '1706.03762'")
    html = c.get(f"/flag/{f['id']}").get_data(as_text=True)
    title = re.search(r'<em id="title">([^<]*)</em>', html).group(1)
    assert title == "Attention Is All You Need" and "first page" in html
    store.db.execute(f"update {T.papers} set title = 'None' where arxiv_id = '1409.0473'")
    g = flag_where(store, "arxiv_id = '1409.0473'")  # no PDF either: the id alone
    html = c.get(f"/flag/{g['id']}").get_data(as_text=True)
    assert 'id="title"' not in html and ">None<" not in html


def test_paper_level_answer_reaches_exactly_the_listed_observations(store, tmp_path):
    add_hardware(store)
    ids = paper_level_store(store)
    # three models and two figures naming none: curate asks which model they belong to
    f = flag_where(store, "kind = 'missing' and field = 'parameters'")
    assert f["model"] == "" and f["arxiv_id"] == "1905.11946"
    before = {o["id"]: o for o in store.db.query(f"select * from {T.observations}")}
    app = create_app(store.path, tmp_path / "data")
    alice = Browser(app, "alice")
    alice.get(f"/flag/{f['id']}")
    table = re.search(r'<table class="obs" id="observations">(.*?)</table>', alice.html,
                      re.S).group(1)
    listed = set(re.findall(r"<tr><td>([^<]+)</td><td>imagenet", table))
    assert listed == {"EfficientNet-B0", "EfficientNet-B7"}  # not the cited ResNet-50
    # a stale listing (curate ran since the page was shown) records nothing
    stale = alice.post(f"/flag/{f['id']}/decide", {"action": "accept", "token": "t0",
                                                  "listing": "0" * 16,
                                                  "candidate": f"fact:{ids['p66']}"})
    assert stale.status_code == 422 and store.count(T.reviews) == 0
    r = alice.decide(f["id"], "accept", candidate=f"fact:{ids['p66']}")
    assert r.status_code == 302
    (rid,) = [x["id"] for x in store.db.query(f"select id from {T.reviews}")]
    curate(store)
    after = {o["id"]: o for o in store.db.query(f"select * from {T.observations}")}
    changed = {o["model"] for i, o in after.items() if o["parameters"] != before[i]["parameters"]
               or json.loads(o["sources"]).get("parameters") == f"review:{rid}"}
    assert changed == listed
    assert all(after[i]["parameters"] == 66e6 for i in after if after[i]["model"] in listed)
    # a model the paper gains later was not on the page: the answer does not reach it
    ex = store.db.execute(f"select max(id) from {T.extractions} where arxiv_id = '1905.11946'"
                          ).fetchone()[0]
    add_fact(store, ex, "1905.11946", "result", model="EfficientNet-B3", benchmark="imagenet",
             metric="top1_accuracy", value=81.6, normalized_value=81.6,
             normalized_unit="percent")
    curate(store)
    (b3,) = store.db.query(f"select * from {T.observations} where model = 'EfficientNet-B3'")
    assert json.loads(b3["sources"]).get("parameters") != f"review:{rid}"


def test_audit_is_a_filterable_table(store, flagged, tmp_path):
    app = create_app(store.path, tmp_path / "data")
    alice, bob = Browser(app, "alice"), Browser(app, "bob")
    a = alice.post("/next", {})
    fa = int(re.search(r"/flag/(\d+)", a.headers["Location"]).group(1))
    alice.decide(fa, "not_reported")
    b = bob.post("/next", {})
    fb = int(re.search(r"/flag/(\d+)", b.headers["Location"]).group(1))
    bob.decide(fb, "skip")
    html = alice.get("/audit?annotator=bob").get_data(as_text=True)
    rows = re.findall(r'<tr id="review-(\d+)">', html)
    assert len(rows) == 1 and "<td>skip" in html and "{" not in html.split('id="audit"')[1]
    assert len(re.findall(r'<tr id="review-', alice.get("/audit?action=not_reported").get_data(
        as_text=True))) == 1
    assert len(re.findall(r'<tr id="review-', alice.get(f"/audit?flag={fa}").get_data(
        as_text=True))) == 1
    assert len(re.findall(r'<tr id="review-', alice.get("/audit?until=2000-01-01").get_data(
        as_text=True))) == 0
    today = store.db.execute(f"select substr(max(created_at), 1, 10) from {T.reviews}"
                             ).fetchone()[0]
    assert len(re.findall(r'<tr id="review-', alice.get(f"/audit?since={today}").get_data(
        as_text=True))) == 2


def test_status_hook_and_cli(cli_run, tmp_path, corpus):
    db = tmp_path / "s.db"
    s = open_store(db)
    review_store(s, tmp_path / "data", corpus)
    s.close()
    r = cli_run("curate", "--db", db, "--silent")
    assert r.exit_code == 0, r.output
    assert re.search(r"Observations: \d+", r.output) and "open" in r.output
    s = open_store(db)
    for name, value in (("alice", "4.5"), ("bob", "4.5")):
        f = flag_where(s, "arxiv_id = '1602.07360' and kind = 'conflict'")
        s.db.execute(f"update {T.flags} set double_review = 1 where id = ?", [f["id"]])
        decide(s, f["id"], name, "correct", name, value=value, unit="GFLOPs")
    s.close()
    r = cli_run("status", "--db", db)
    assert re.search(r"agreement on compute_per_pass: 100\.0% \(Cohen's kappa 1\.00, "
                     r"95% CI 1\.00 to 1\.00, n=1\)", r.output), r.output
    r = cli_run("status", "--db", db, "--json")
    assert json.loads(r.output)["agreement"]["compute_per_pass"]["kappa_low"] == 1.0
    r = cli_run("curate", "--db", db, "--pwc", tmp_path / "missing.json")
    assert r.exit_code == 1 and "missing.json" in r.output
    r = cli_run("curate", "--db", db, "--double-review-fraction", "2")
    assert r.exit_code == 2


def test_concurrent_leases_from_threads(store, flagged):
    """Eight annotators asking at the same instant, each on its own connection."""
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
    assert "--token" in r.output and "--allow-host" in r.output and "--adjudicator" in r.output


def test_review_settings_in_the_config_file(cli_run, tmp_path):
    (tmp_path / "dlcompute.toml").write_text(
        '[review]\ntoken = "s3cret"\nallowed_hosts = ["review.lab.example"]\n'
        'adjudicators = "carol"\n')
    assert cli_run("init", "--db", tmp_path / "a.db").exit_code == 0
    (tmp_path / "dlcompute.toml").write_text("[review]\nadjudicators = 5\n")
    r = cli_run("init", "--db", tmp_path / "a.db")
    assert r.exit_code == 1 and "adjudicators" in r.output and "list of names" in r.output
