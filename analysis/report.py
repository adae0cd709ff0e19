"""Tables as CSV, Markdown and LaTeX, and the self-contained index.html."""

from __future__ import annotations

import csv
import html
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.regress import Fit


@dataclass
class Table:
    """One table of the report: a header row, body rows, and what it is."""

    name: str
    title: str
    header: list[str]
    rows: list[list[str]]
    note: str = ""
    counts: str = ""  # the data behind it, in words


@dataclass
class Section:
    """A heading of the report with its tables, figures and skipped parts."""

    title: str
    text: str = ""
    tables: list[Table] = field(default_factory=list)
    figures: list[dict] = field(default_factory=list)  # {"name", "caption", "base64"}
    skipped: list[str] = field(default_factory=list)


def stars(p: float | None) -> str:
    if p is None or not math.isfinite(p):
        return ""
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.1 else ""


def num(v: float | None, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    if v != 0 and (abs(v) >= 1e5 or abs(v) < 10 ** (-digits)):
        return f"{v:.{digits}g}"
    return f"{v:.{digits}f}"


def regression_table(name: str, title: str, columns: list[tuple[str, Fit | None]],
                     term_labels: dict[str, str], *, note: str = "", counts: str = "",
                     digits: int = 3) -> Table:
    """A stargazer-style table: coefficient with stars, (plain standard error) below as
    the paper printed it, [standard error clustered by paper] below that, statistics."""
    header = ["", *[c for c, _ in columns]]
    rows: list[list[str]] = []
    for term, label in term_labels.items():
        coef, se, cse = [label], [""], [""]
        for _, fit in columns:
            if fit is None or term not in fit.coef:
                coef.append("")
                se.append("")
                cse.append("")
                continue
            coef.append(num(fit.coef[term], digits) + stars(fit.p[term]))
            se.append(f"({num(fit.se[term], digits)})")
            cse.append(f"[{num(fit.se_cluster[term], digits)}]{stars(fit.p_cluster[term])}"
                       if term in fit.se_cluster else "")
        rows += [coef, se]
        if any(cse[1:]):
            rows.append(cse)

    def stat(label: str, get: Any) -> list[str]:
        return [label, *[get(f) if f is not None else "skipped" for _, f in columns]]

    rows.append(stat("Observations", lambda f: str(f.n)))
    if any(f is not None and f.n_clusters for _, f in columns):
        rows.append(stat("Papers (clusters)", lambda f: str(f.n_clusters or "")))
    rows.append(stat("R2", lambda f: num(f.r2, digits)))
    rows.append(stat("Adjusted R2", lambda f: num(f.adj_r2, digits)))
    rows.append(stat("Residual Std. Error",
                     lambda f: f"{num(f.resid_se, digits)} (df = {int(f.df_resid)})"))
    rows.append(stat("F Statistic", lambda f: f"{num(f.f_stat, digits)}{stars(f.f_p)} "
                                              f"(df = {int(f.df_model)}; {int(f.df_resid)})"))
    note = ((note + " " if note else "") + "Standard errors in parentheses (plain OLS, as the "
            "paper printed them); in brackets clustered by paper. Stars: *p<0.1; **p<0.05; "
            "***p<0.01")
    return Table(name, title, header, rows, note=note, counts=counts)


def write_table(t: Table, table_dir: Path) -> None:
    """tables/NAME.csv, .md and .tex."""
    table_dir.mkdir(parents=True, exist_ok=True)
    with open(table_dir / f"{t.name}.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(t.header)
        w.writerows(t.rows)
    md = [f"**{t.title}**", "", "| " + " | ".join(_md(c) for c in t.header) + " |",
          "|" + "---|" * len(t.header)]
    md += ["| " + " | ".join(_md(c) for c in r) + " |" for r in t.rows]
    if t.note:
        md += ["", t.note]
    (table_dir / f"{t.name}.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    tex = [r"\begin{table}[ht]", r"\centering", rf"\caption{{{_tex(t.title)}}}",
           rf"\begin{{tabular}}{{l{'r' * (len(t.header) - 1)}}}", r"\hline",
           " & ".join(_tex(c) for c in t.header) + r" \\", r"\hline"]
    tex += [" & ".join(_tex(c) for c in r) + r" \\" for r in t.rows]
    tex += [r"\hline", r"\end{tabular}"]
    if t.note:
        tex.append(rf"\par\footnotesize {_tex(t.note)}")
    tex.append(r"\end{table}")
    (table_dir / f"{t.name}.tex").write_text("\n".join(tex) + "\n", encoding="utf-8")


def _md(s: str) -> str:
    return str(s).replace("|", r"\|").replace("*", r"\*")


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
        "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
        "^": r"\textasciicircum{}"}


def _tex(s: str) -> str:
    text = "".join(_TEX.get(ch, ch) for ch in str(s))
    return text.replace("***", "$^{***}$").replace("**", "$^{**}$") if "*" in text else text


HTML_ROWS = 200  # longer tables are cut in the page; their files hold every row


def _table_html(t: Table) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in t.header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
                   for r in t.rows[:HTML_ROWS])
    parts = [f'<h3 id="{html.escape(t.name)}">{html.escape(t.title)}</h3>']
    if t.counts:
        parts.append(f'<p class="counts">Data: {html.escape(t.counts)}</p>')
    parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    if len(t.rows) > HTML_ROWS:
        parts.append(f'<p class="note">First {HTML_ROWS} of {len(t.rows):,} rows; all in '
                     f'tables/{html.escape(t.name)}.csv</p>')
    if t.note:
        parts.append(f'<p class="note">{html.escape(t.note)}</p>')
    parts.append(f'<p class="files">Files: tables/{html.escape(t.name)}.csv, .md, .tex</p>')
    return "\n".join(parts)


CSS = """
body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;
color:#222}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
td:first-child,th:first-child{text-align:left}
.skipped{color:#a33}.note,.counts,.files{font-size:.85em;color:#555}
img{max-width:100%;border:1px solid #eee}figure{margin:1em 0}
pre{background:#f6f6f6;padding:.6em;overflow:auto;font-size:.85em}
"""


def render_html(*, title: str, intro: list[tuple[str, str]], sections: list[Section],
                settings_text: str) -> str:
    """One page, figures embedded as base64 PNG, nothing fetched from elsewhere."""
    out = ["<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
           f"<h1>{html.escape(title)}</h1>", "<table>"]
    out += [f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in intro]
    out.append("</table>")
    out.append("<h2>Contents</h2><ul>" + "".join(
        f'<li><a href="#s{i}">{html.escape(s.title)}</a></li>'
        for i, s in enumerate(sections)) + '<li><a href="#settings">Settings</a></li></ul>')
    for i, s in enumerate(sections):
        out.append(f'<h2 id="s{i}">{html.escape(s.title)}</h2>')
        if s.text:
            out.append(f"<p>{html.escape(s.text)}</p>")
        for reason in s.skipped:
            out.append(f'<p class="skipped">Skipped: {html.escape(reason)}</p>')
        out += [_table_html(t) for t in s.tables]
        for f in s.figures:
            out.append(f'<figure><img alt="{html.escape(f["caption"])}" '
                       f'src="data:image/png;base64,{f["base64"]}"><figcaption>'
                       f'{html.escape(f["caption"])} (figures/{html.escape(f["name"])}.png, '
                       f'.svg)</figcaption></figure>')
    out.append(f'<h2 id="settings">Settings</h2><pre>{html.escape(settings_text)}</pre>')
    out.append("</body></html>")
    return "\n".join(out)
