"""The annotators' web app (Flask): queue, one flag per page, decisions, audit.

Paper text is untrusted: templates autoescape everything and never mark paper text
safe. POSTs carry a per-session CSRF token; each decision form carries a one-time
token so a double submit records one decision.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from pathlib import Path

from flask import (
    Flask,
    Response,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from curate.review.queue import (
    Filters,
    ReviewError,
    decide,
    filter_options,
    lease,
    lease_next,
    progress_counts,
    queue_flags,
    release,
    undo_last,
)
from curate.review.render import render_page, value_strings
from db import Store, open_store
from db.schema import T

log = logging.getLogger(__name__)


def highlight(evidence: str | None, needles: list[str]) -> tuple[str, str, str]:
    """(before, value, after) of the evidence sentence; the template escapes each part."""
    text = evidence or ""
    for n in needles:
        m = re.search(r"(?<![\d.])" + re.escape(n) + r"(?![\d])", text, re.IGNORECASE)
        if m:
            return text[:m.start()], text[m.start():m.end()], text[m.end():]
    return text, "", ""


def _needles(c: dict) -> list[str]:
    stated = (c.get("stated") or "").split(" ")[0]
    extra = tuple(x for x in (stated, c.get("hardware_name")) if x)
    return value_strings(None, extra) or value_strings(c.get("value"))


def create_app(db_path: str | Path, data_dir: str | Path, *, annotator: str | None = None,
               lease_minutes: float = 15.0, secret_key: str | None = None) -> Flask:
    """The review app over the store at ``db_path`` (PDFs under ``data_dir``)."""
    app = Flask(__name__, template_folder=str(Path(__file__).parent / "templates"))
    app.config.update(SECRET_KEY=secret_key or secrets.token_hex(32), DB_PATH=str(db_path),
                      DATA_DIR=str(data_dir), DEFAULT_ANNOTATOR=annotator,
                      LEASE_MINUTES=lease_minutes, SESSION_COOKIE_SAMESITE="Strict")

    def store() -> Store:
        if "store" not in g:
            g.store = open_store(app.config["DB_PATH"])
        return g.store

    @app.teardown_appcontext
    def _close(_exc: BaseException | None) -> None:
        s = g.pop("store", None)
        if s is not None:
            s.close()

    def csrf_token() -> str:
        if "csrf" not in session:
            session["csrf"] = secrets.token_hex(16)
        return session["csrf"]

    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.before_request
    def _check_csrf() -> None:
        if request.method == "POST":
            sent = request.form.get("csrf", "")
            if not sent or not secrets.compare_digest(sent, session.get("csrf", "")):
                abort(400, "CSRF token missing or wrong; reload the page")

    def who() -> str | None:
        return session.get("annotator") or app.config["DEFAULT_ANNOTATOR"]

    def filters() -> Filters:
        src = request.values
        return Filters(src.get("benchmark") or None, src.get("field") or None,
                       src.get("kind") or None)

    def fargs() -> dict:
        f = filters()
        return {k: v for k, v in (("benchmark", f.benchmark), ("field", f.field),
                                  ("kind", f.kind)) if v}

    @app.route("/")
    def index():
        return redirect(url_for("queue", **fargs()))

    @app.route("/annotator", methods=["GET", "POST"])
    def annotator_form():
        if request.method == "POST":
            name = request.form.get("name", "").strip()
            if not re.fullmatch(r"[\w .@-]{1,64}", name):
                flash("Annotator names are 1-64 letters, digits, spaces, . @ - or _")
            else:
                session["annotator"] = name
                return redirect(url_for("queue"))
        return render_template("annotator.html", annotator=who())

    @app.route("/queue")
    def queue():
        s = store()
        flags = queue_flags(s, filters())
        options = filter_options(s)
        return render_template("queue.html", flags=flags, options=options, current=fargs(),
                               counts=progress_counts(s, filters()), overall=progress_counts(s),
                               annotator=who())

    @app.route("/next")
    def next_flag():
        name = who()
        if not name:
            return redirect(url_for("annotator_form"))
        flag = lease_next(store(), name, filters(), app.config["LEASE_MINUTES"])
        if flag is None:
            return render_template("empty.html", current=fargs(), annotator=name,
                                   token=secrets.token_hex(12),
                                   counts=progress_counts(store(), filters()))
        return redirect(url_for("show_flag", flag_id=flag["id"], **fargs()))

    @app.route("/flag/<int:flag_id>")
    def show_flag(flag_id: int):
        name = who()
        if not name:
            return redirect(url_for("annotator_form"))
        s = store()
        flag = s.db[T.flags].get(flag_id) if s.count(T.flags, "id = ?", [flag_id]) else None
        if flag is None:
            abort(404)
        mine = flag["status"] == "open" and lease(s, flag_id, name, app.config["LEASE_MINUTES"])
        flag = s.db[T.flags].get(flag_id)
        paper = next(iter(s.db.query(f"select arxiv_id, title, year, month from {T.papers} "
                                     f"where arxiv_id = ?", [flag["arxiv_id"]])), None)
        cands = []
        for i, c in enumerate(json.loads(flag["candidates"] or "[]")):
            before, hit, after = highlight(c.get("evidence"), _needles(c))
            cands.append({**c, "n": i + 1, "before": before, "hit": hit, "after": after,
                          "has_page": bool(c.get("fact_id") and c.get("page"))})
        history = list(s.db.query(f"select * from {T.reviews} where flag_id = ? order by id",
                                  [flag_id]))
        return render_template("flag.html", flag=flag, paper=paper, cands=cands, mine=mine,
                               token=secrets.token_hex(12), current=fargs(), annotator=name,
                               history=history, counts=progress_counts(s, filters()))

    @app.route("/flag/<int:flag_id>/decide", methods=["POST"])
    def decide_flag(flag_id: int):
        name = who()
        if not name:
            return redirect(url_for("annotator_form"))
        form = request.form
        action = form.get("action", "")
        fact_id = value = unit = None
        if action == "accept":
            chosen = form.get("candidate", "")
            flag = store().db[T.flags].get(flag_id)
            cands = json.loads(flag["candidates"] or "[]")
            if not chosen.isdigit() or not 1 <= int(chosen) <= len(cands):
                flash("Choose a candidate (keys 1-9) before accepting")
                return redirect(url_for("show_flag", flag_id=flag_id, **fargs()))
            c = cands[int(chosen) - 1]
            fact_id, value, unit = c.get("fact_id"), c.get("value"), c.get("unit")
            if isinstance(value, str):  # a chip name: it goes where corrections put it
                value, unit = None, value
        elif action == "correct":
            raw = form.get("value", "").strip().replace(",", "")
            try:
                value = float(raw) if raw else None
            except ValueError:
                flash(f"{raw!r} is not a number; type digits like 25.6 (and a unit)")
                return redirect(url_for("show_flag", flag_id=flag_id, **fargs()))
            unit = form.get("unit", "").strip() or None
        try:
            decide(store(), flag_id, name, action, form.get("token", ""), fact_id=fact_id,
                   value=value, unit=unit, note=form.get("note") or None)
        except ReviewError as e:
            flash(str(e))
            if action == "correct":
                return redirect(url_for("show_flag", flag_id=flag_id, **fargs()))
        return redirect(url_for("next_flag", **fargs()))

    @app.route("/undo", methods=["POST"])
    def undo():
        name = who()
        if not name:
            return redirect(url_for("annotator_form"))
        flag_id = undo_last(store(), name, request.form.get("token", ""),
                            app.config["LEASE_MINUTES"])
        if flag_id is None:
            flash("Nothing to undo")
            return redirect(url_for("next_flag", **fargs()))
        flash(f"Undone: flag {flag_id} is open again")
        return redirect(url_for("show_flag", flag_id=flag_id, **fargs()))

    @app.route("/flag/<int:flag_id>/release", methods=["POST"])
    def release_flag(flag_id: int):
        if who():
            release(store(), flag_id, who())
        return redirect(url_for("queue", **fargs()))

    @app.route("/flag/<int:flag_id>/candidate/<int:n>/page.png")
    def page_png(flag_id: int, n: int):
        s = store()
        flag = s.db[T.flags].get(flag_id) if s.count(T.flags, "id = ?", [flag_id]) else None
        cands = json.loads(flag["candidates"] or "[]") if flag else []
        if not 1 <= n <= len(cands) or not cands[n - 1].get("fact_id"):
            abort(404)
        c = cands[n - 1]
        fact = next(iter(s.db.query(f"select * from {T.facts} where id = ?", [c["fact_id"]])),
                    None)
        pdf = _pdf_path(s, fact, Path(app.config["DATA_DIR"])) if fact else None
        if pdf is None or not fact.get("page"):
            abort(404, "No PDF for this fact in the store's pdfs table")
        try:
            png = render_page(pdf, int(fact["page"]), _needles(c), fact.get("evidence"),
                              region=request.args.get("full") != "1")
        except (OSError, IndexError, ValueError) as e:
            log.warning("cannot render %s page %s: %s", pdf, fact.get("page"), e)
            abort(404, "The PDF page cannot be rendered")
        return Response(png, mimetype="image/png",
                        headers={"Cache-Control": "private, max-age=3600"})

    @app.route("/audit")
    def audit():
        rows = list(store().db.query(
            f"select r.*, f.arxiv_id, f.field, f.kind from {T.reviews} r "
            f"left join {T.flags} f on f.id = r.flag_id order by r.id desc limit 1000"))
        return render_template("audit.html", reviews=rows, annotator=who())

    return app


def _pdf_path(s: Store, fact: dict, data_dir: Path) -> Path | None:
    rows = list(s.db.query(
        f"select p.path from {T.pdfs} p join {T.extractions} e on e.pdf_sha256 = p.sha256 "
        f"where e.id = ? and p.status = 'ok'", [fact.get("extraction_id")]))
    rows = rows or list(s.db.query(
        f"select path from {T.pdfs} where arxiv_id = ? and status = 'ok' "
        f"order by version desc", [fact["arxiv_id"]]))
    for r in rows:
        p = Path(r["path"])
        p = p if p.is_absolute() else data_dir / p
        if p.exists():
            return p
    return None


def serve(app: Flask, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve with waitress (a production WSGI server, threaded) until interrupted."""
    import waitress

    waitress.serve(app, host=host, port=port, threads=8, ident="dlcompute-review")
