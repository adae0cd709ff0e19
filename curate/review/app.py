"""The annotators' web app (Flask): queue, one flag per page, decisions, adjudication, audit.

Paper text is untrusted: templates autoescape everything and never mark paper text
safe. Only loopback names and configured hosts are served (guard.py), and beyond
loopback every request needs the token. POSTs carry a per-session CSRF token; each
decision form carries a one-time token so a double submit records one decision.
GET and HEAD never change anything: leases are taken by POSTs (claim, next, decide).
"""

from __future__ import annotations

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

from curate.humanize import human
from curate.review import pages
from curate.review.evidence import pdf_path
from curate.review.guard import Guard
from curate.review.queue import (
    Filters,
    Policy,
    ReviewError,
    claim,
    decide,
    disputed,
    get_flag,
    lease_next,
    progress_counts,
    release,
    undo,
)
from curate.review.render import render_page
from db import Store, open_store
from db.schema import T

log = logging.getLogger(__name__)
OPEN_ENDPOINTS = {"login"}


def create_app(db_path: str | Path, data_dir: str | Path, *, annotator: str | None = None,
               lease_minutes: float = 15.0, secret_key: str | None = None,
               guard: Guard | None = None, adjudicators: tuple[str, ...] = ()) -> Flask:
    """The review app over the store at ``db_path`` (PDFs under ``data_dir``).

    ``guard`` says which Host names are served and which token is required (default:
    loopback only, no token); ``adjudicators`` may settle disagreements of double
    review (empty: anyone who did not decide the flag).
    """
    app = Flask(__name__, template_folder=str(Path(__file__).parent / "templates"))
    app.config.update(SECRET_KEY=secret_key or secrets.token_hex(32), DB_PATH=str(db_path),
                      DATA_DIR=str(data_dir), DEFAULT_ANNOTATOR=annotator,
                      LEASE_MINUTES=lease_minutes, SESSION_COOKIE_SAMESITE="Strict")
    guard = guard or Guard.for_bind("127.0.0.1")
    policy = Policy(frozenset(adjudicators))
    app.extensions["dlcompute_guard"] = guard
    app.jinja_env.filters["human"] = human
    titles: dict[str, str | None] = {}

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
    def _guard():
        if not guard.host_ok(request.host):
            abort(400, "This Host name is not served; open the app by the address it printed")
        if guard.token is not None and request.endpoint not in OPEN_ENDPOINTS:
            sent = request.args.get("token") or request.headers.get(
                "Authorization", "").removeprefix("Bearer ").strip()
            if sent and guard.token_ok(sent):
                session["auth"] = guard.token
                if request.args.get("token"):  # keep the token out of the address bar
                    args = {k: v for k, v in request.args.items() if k != "token"}
                    return redirect(url_for(request.endpoint or "queue",
                                            **(request.view_args or {}), **args))
            elif not guard.token_ok(session.get("auth")):
                return redirect(url_for("login", next=request.full_path))
        if request.method == "POST":
            sent = request.form.get("csrf", "")
            if not sent or not secrets.compare_digest(sent, session.get("csrf", "")):
                abort(400, "CSRF token missing or wrong; reload the page")
        return None

    @app.route("/login", methods=["GET", "POST"])
    def login():
        if request.method == "POST":  # _guard checked the Host name and the CSRF token
            if guard.token_ok(request.form.get("access_token")):
                session["auth"] = guard.token
                nxt = request.form.get("next") or ""
                return redirect(nxt if nxt.startswith("/") and not nxt.startswith("//")
                                else url_for("queue"))
            flash("That token is wrong; copy it from the terminal that started the app")
        return render_template("login.html", annotator=None,
                               next=request.values.get("next", "")), 401

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

    def need_name():
        return None if who() else redirect(url_for("annotator_form"))

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
        return render_template("queue.html", **pages.queue_page(s, filters(), who(), policy),
                               current=fargs(), annotator=who())

    @app.route("/next", methods=["GET", "POST"])
    def next_flag():
        if (r := need_name()) is not None:
            return r
        if request.method == "POST":
            flag = lease_next(store(), who(), filters(), app.config["LEASE_MINUTES"],
                              policy=policy)
            if flag is not None:
                return redirect(url_for("show_flag", flag_id=flag["id"], **fargs()))
        return render_template("empty.html", current=fargs(), annotator=who(),
                               token=secrets.token_hex(12), asked=request.method == "POST",
                               counts=progress_counts(store(), filters()))

    @app.route("/adjudicate", methods=["GET", "POST"])
    def adjudicate():
        if (r := need_name()) is not None:
            return r
        s = store()
        if request.method == "POST":
            flag = lease_next(s, who(), None, app.config["LEASE_MINUTES"], adjudicate=True,
                              policy=policy)
            if flag is not None:
                return redirect(url_for("show_flag", flag_id=flag["id"]))
            flash("No disagreement is waiting for you")
        rows = pages.flag_rows(s, disputed(s))
        return render_template("adjudicate.html", flags=rows, annotator=who(),
                               allowed=[f for f in rows if policy.may_adjudicate(
                                   who(), pages.replayed(s, f["id"]))])

    def flag_or_404(s: Store, flag_id: int) -> dict:
        flag = get_flag(s, flag_id)
        if flag is None:
            abort(404)
        return flag

    def render_flag(s: Store, flag: dict, revise: int | None, **shown):
        """The flag's page; ``shown`` adds problems, message and the typed values."""
        ctx = pages.flag_page(s, flag, who(), policy, Path(app.config["DATA_DIR"]), titles,
                              revise=revise)
        ctx.update(shown)
        return render_template("flag.html", **ctx, token=secrets.token_hex(12),
                               current=fargs(), annotator=who(),
                               counts=progress_counts(s, filters()))

    @app.route("/flag/<int:flag_id>")
    def show_flag(flag_id: int):
        if (r := need_name()) is not None:
            return r
        s = store()
        return render_flag(s, flag_or_404(s, flag_id), request.args.get("revise", type=int))

    @app.route("/flag/<int:flag_id>/claim", methods=["POST"])
    def claim_flag(flag_id: int):
        if (r := need_name()) is not None:
            return r
        if not claim(store(), flag_id, who(), app.config["LEASE_MINUTES"]):
            flash(f"Flag {flag_id} is closed or held by someone else")
        return redirect(url_for("show_flag", flag_id=flag_id, **fargs()))

    @app.route("/flag/<int:flag_id>/release", methods=["POST"])
    def release_flag(flag_id: int):
        if who():
            release(store(), flag_id, who())
            flash(f"Flag {flag_id} released: it is back in the queue")
        return redirect(url_for("queue", **fargs()))

    @app.route("/flag/<int:flag_id>/decide", methods=["POST"])
    def decide_flag(flag_id: int):
        if (r := need_name()) is not None:
            return r
        s = store()
        flag = flag_or_404(s, flag_id)
        form = request.form
        action = form.get("action", "")
        try:
            kwargs = pages.decision_args(s, flag, form)
            decide(s, flag_id, who(), action, form.get("token", ""), note=form.get("note") or None,
                   policy=policy, minutes=app.config["LEASE_MINUTES"], **kwargs)
        except ReviewError as e:  # the page again, with a message per field: 422
            return render_flag(s, flag_or_404(s, flag_id), form.get("revises", type=int),
                               problems=e.problems, message=str(e), typed=form), 422
        was_dispute = pages.was_adjudication(s, flag_id)
        nxt = lease_next(s, who(), None if was_dispute else filters(),
                         app.config["LEASE_MINUTES"], adjudicate=was_dispute, policy=policy)
        if nxt is not None:
            return redirect(url_for("show_flag", flag_id=nxt["id"], **fargs()))
        return redirect(url_for("adjudicate" if was_dispute else "next_flag", **fargs()))

    @app.route("/undo", methods=["POST"])
    @app.route("/review/<int:review_id>/undo", methods=["POST"])
    def undo_review(review_id: int | None = None):
        if (r := need_name()) is not None:
            return r
        try:
            flag_id = undo(store(), who(), request.form.get("token", ""), review_id,
                           app.config["LEASE_MINUTES"], policy)
        except ReviewError as e:
            flash(str(e))
            return redirect(url_for("audit"))
        if flag_id is None:
            flash("Nothing to undo")
            return redirect(url_for("next_flag", **fargs()))
        flash(f"Undone: flag {flag_id} is " + (
            "open again" if get_flag(store(), flag_id)["status"] == "open" else
            "settled by its other decisions"))
        return redirect(url_for("show_flag", flag_id=flag_id, **fargs()))

    @app.route("/fact/<int:fact_id>/page.png")
    def fact_png(fact_id: int):
        s = store()
        rows = list(s.db.query(f"select * from {T.facts} where id = ?", [fact_id]))
        if not rows or not rows[0].get("page"):
            abort(404)
        fact = rows[0]
        pdf = pdf_path(s, fact["arxiv_id"], Path(app.config["DATA_DIR"]),
                       fact.get("extraction_id"))
        if pdf is None:
            abort(404, "No PDF for this fact in the local cache")
        return _png(pdf, int(fact["page"]), pages.needles(pages.record_of(fact)),
                    fact.get("evidence"))

    @app.route("/paper/<arxiv_id>/page/<int:page_no>.png")
    def paper_png(arxiv_id: str, page_no: int):
        pdf = pdf_path(store(), arxiv_id, Path(app.config["DATA_DIR"]))
        if pdf is None:
            abort(404, "No PDF for this paper in the local cache")
        find = request.args.get("find", "")[:120]
        return _png(pdf, page_no, [find] if find else [], None)

    def _png(pdf: Path, page_no: int, needles: list[str], evidence: str | None) -> Response:
        try:
            png = render_page(pdf, page_no, needles, evidence,
                              region=request.args.get("full") != "1" and bool(needles))
        except (OSError, IndexError, ValueError, RuntimeError) as e:  # PdfiumError: damaged
            log.warning("cannot render %s page %s: %s", pdf, page_no, e)
            abort(404, "The PDF page cannot be rendered")
        return Response(png, mimetype="image/png",
                        headers={"Cache-Control": "private, max-age=3600"})

    @app.route("/audit")
    def audit():
        return render_template("audit.html", **pages.audit_page(store(), request.args, who(),
                                                                 policy),
                               annotator=who(), token=secrets.token_hex(12))

    return app


def serve(app: Flask, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve with waitress (a production WSGI server, threaded) until interrupted."""
    import waitress

    waitress.serve(app, host=host, port=port, threads=8, ident="dlcompute-review")

