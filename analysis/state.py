"""What one analysis builds up as it goes: settings, results, report sections, skipped parts.

A :class:`Slice` is the unit every fit works on: one benchmark, one metric
family, the rows of both.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import figures
from analysis.project import BURDEN_BENCHMARKS, LABELS
from analysis.regress import CannotFit, Fit, ols
from analysis.report import Section, Table, num, write_table
from analysis.select import best_per_paper, family_label, paper_ids

log = logging.getLogger(__name__)


def label(bench: str) -> str:
    return LABELS.get(bench, bench)


def bench_order(names: list[str]) -> list[str]:
    known = [b for b in BURDEN_BENCHMARKS if b in names]
    return known + sorted(b for b in names if b not in known)


@dataclass
class Slice:
    """One benchmark's rows of one metric family; ``main`` when it is the paper's metric."""

    bench: str
    family: str
    rows: pd.DataFrame
    main: bool

    @property
    def key(self) -> str:
        """``imagenet`` for the main family, ``imagenet/top5`` for another."""
        return self.bench if self.main else f"{self.bench}/{self.family}"

    @property
    def name(self) -> str:
        """'ImageNet, top-1 error': what every table and figure of the slice is titled."""
        return f"{label(self.bench)}, {family_label(self.family)}"

    @property
    def file_key(self) -> str:
        return self.key.replace("/", "_")


def counts_text(g: pd.DataFrame, *, imputation: bool = True) -> str:
    papers = pd.Series(paper_ids(g)).nunique() if len(g) else 0
    text = f"{len(g)} observations from {papers} papers"
    if imputation:
        text += f", {int((g['compute_imputed'] > 0).sum())} with compute imputed from parameters"
    return text


class RunState:
    """The state one analysis builds up: results, sections, skipped parts."""

    def __init__(self, out_dir: Path, settings: dict, *, flags_known: bool):
        self.out_dir = out_dir
        self.settings = settings
        self.flags_known = flags_known  # observations carry a "flag" column from the store
        self.results: dict[str, Any] = {}
        self.skipped: list[dict] = []
        self.sections: list[Section] = []

    @property
    def best_per_paper(self) -> bool:
        return bool(self.settings.get("best_per_paper"))

    def skip(self, section: Section | None, what: str, reason: str) -> None:
        log.info("skipped %s: %s", what, reason)
        self.skipped.append({"what": what, "reason": reason})
        if section is not None:
            section.skipped.append(f"{what}: {reason}")

    def figure(self, section: Section, fig: Any, name: str, caption: str) -> None:
        saved = figures.save(fig, self.out_dir / "figures", name)
        section.figures.append({"name": name, "caption": caption, "base64": saved["base64"]})

    def table(self, section: Section, t: Table) -> None:
        write_table(t, self.out_dir / "tables")
        section.tables.append(t)

    def fit(self, section: Section, what: str, fn: Any, *args: Any, **kw: Any) -> Fit | None:
        try:
            return fn(*args, **kw)
        except CannotFit as e:
            self.skip(section, what, str(e))
            return None
        except (np.linalg.LinAlgError, ValueError, ZeroDivisionError) as e:
            # A numerically degenerate sample must not take the other benchmarks down.
            self.skip(section, what, f"the fit failed numerically ({e})")
            return None

    def chosen(self, rows: pd.DataFrame) -> pd.DataFrame:
        """The rows a main fit uses: all, or the best model per paper with --best-per-paper."""
        return best_per_paper(rows) if self.best_per_paper else rows

    def variants(self, rows: pd.DataFrame, *, imputation: bool) -> list[tuple[str, pd.DataFrame]]:
        """The robustness rows of a fit: the main sample and the samples it is checked on."""
        out = [("main fit" + (" (best model per paper)" if self.best_per_paper else ""),
                self.chosen(rows))]
        if imputation:
            out.append(("without imputed compute",
                        self.chosen(rows[rows["compute_imputed"] == 0])))
        out.append(("all models of each paper", rows) if self.best_per_paper
                   else ("best model per paper", best_per_paper(rows)))
        if self.flags_known:
            out.append(("without observations with open flags",
                        self.chosen(rows[rows["flag"] == ""])))
        return out


def robustness(state: RunState, section: Section, variants: list[tuple[str, pd.DataFrame]],
               x_of: Any, y_of: Any, slope: str, what: str) -> list[dict]:
    """The polynomial slope on each variant sample: n, papers, b, both standard errors, R2."""
    out = []
    for name, rows in variants:
        entry: dict[str, Any] = {"variant": name, "n": len(rows)}
        try:
            fit = ols(y_of(rows), x_of(rows), [slope], name=f"{what} {name}", formula="",
                      groups=paper_ids(rows))
        except CannotFit as e:
            entry["skipped"] = str(e)
            out.append(entry)
            continue
        b = fit.coef[slope]
        entry.update({"papers": fit.n_clusters, "b": b, "se": fit.se[slope],
                      "se_cluster": fit.se_cluster.get(slope), "p": fit.p[slope],
                      "p_cluster": fit.p_cluster.get(slope), "r2": fit.r2,
                      "exponent": -1.0 / b if b < 0 else None})
        out.append(entry)
    return out


def robustness_table(name: str, title: str, entries: list[dict], counts: str) -> Table:
    body = [[e["variant"], str(e["n"]), str(e.get("papers") or ""), num(e.get("b")),
             num(e.get("se")), num(e.get("se_cluster")), num(e.get("r2")),
             num(e.get("exponent")) or e.get("skipped", "")] for e in entries]
    return Table(name, title, ["Sample", "N", "Papers", "Slope b", "SE (OLS)",
                               "SE (clustered by paper)", "R2", "Exponent -1/b"], body,
                 counts=counts, note="The polynomial form on each sample; an exponent only "
                                     "where b < 0.")
