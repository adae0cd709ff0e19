"""Settings: command line > environment > dlcompute.toml > built-in default.

``dlcompute.toml`` (or the file named by ``--config`` / ``DLCOMPUTE_CONFIG``)
holds top-level keys (``db``, ``data_dir``) and one table per stage
(``[crawl]``, ``[extract]``, ``[analysis]``, ``[review]``, ``[benchmarks.NAME]``).
"""

from __future__ import annotations

import difflib
import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from db.errors import DlcomputeError

DEFAULT_CONFIG_NAME = "dlcompute.toml"
DEFAULT_DB = "dlcompute.db"
DEFAULT_DATA_DIR = "data"

ENV_DB = "DLCOMPUTE_DB"
ENV_DATA = "DLCOMPUTE_DATA"
ENV_CONFIG = "DLCOMPUTE_CONFIG"



class ConfigError(DlcomputeError):
    """The config file is missing, malformed or holds an unknown setting."""


@dataclass(frozen=True)
class Setting:
    """One key of dlcompute.toml: its type and the values it may take."""

    kind: str  # int | float | str | paths, names (a string or a list of strings) | table
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False  # lo itself is not allowed
    hi_open: bool = False
    choices: tuple[str, ...] = ()

    def check(self, value: Any) -> str | None:
        """Why ``value`` is not allowed, or None."""
        if self.kind == "table":
            return None if isinstance(value, dict) else "must be a table"
        if self.kind == "str":
            if not isinstance(value, str):
                return "must be a quoted string"
            if self.choices and value not in self.choices:
                return f"choose one of {', '.join(self.choices)}"
            return None
        if self.kind in ("paths", "names"):
            ok = isinstance(value, str) or (isinstance(value, list)
                                            and all(isinstance(v, str) for v in value))
            what = "path" if self.kind == "paths" else "name"
            return None if ok else f"must be a {what} or a list of {what}s"
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "must be a number"
        if self.kind == "int" and not isinstance(value, int):
            return "must be a whole number"
        low_bad = self.lo is not None and (value < self.lo or (self.lo_open and value == self.lo))
        high_bad = self.hi is not None and (value > self.hi or (self.hi_open and value == self.hi))
        if low_bad or high_bad:
            return f"is out of range; use {self.range_text()}"
        return None

    def range_text(self) -> str:
        if self.lo is not None and self.hi is not None:
            text = f"a number from {self.lo:g} to {self.hi:g}"
            if self.lo_open or self.hi_open:
                ends = [f"{v:g}" for v, o in ((self.lo, self.lo_open), (self.hi, self.hi_open))
                        if o]
                text += f", not {' or '.join(ends)}"
            return text
        if self.lo is not None:
            return f"a number {'above' if self.lo_open else 'of at least'} {self.lo:g}"
        return f"a number {'below' if self.hi_open else 'of at most'} {self.hi:g}"


# Every key the config file may hold, by table ("" = top level). Choices are spelled out
# here so that reading settings imports no stage; tests check they match the stages.
SCHEMA: dict[str, dict[str, Setting]] = {
    "": {"db": Setting("str"), "data_dir": Setting("str")},
    "crawl": {"delay": Setting("float", lo=0), "arxiv_url": Setting("str"),
              "oai_url": Setting("str")},
    "extract": {"workers": Setting("int", lo=1, hi=1024), "timeout": Setting("float", lo=0,
                                                                              lo_open=True),
                "max_memory": Setting("float", lo=0, lo_open=True),
                "executor": Setting("str", choices=("local", "dask")),
                "scheduler": Setting("str"), "send": Setting("str", choices=("paths", "bytes"))},
    "curate": {"peak": Setting("str", choices=("fp32_base", "fp32_boost", "tensor")),
               "pwc": Setting("paths"), "pwc_tolerance": Setting("float", lo=0),
               "epoch": Setting("paths"), "epoch_tolerance": Setting("float", lo=0, hi=1),
               "conflict_confidence": Setting("float", lo=0, hi=1),
               "value_tolerance": Setting("float", lo=0),
               "fit_min_pairs": Setting("int", lo=2),
               "double_review_fraction": Setting("float", lo=0, hi=1),
               "batch_size": Setting("int", lo=1)},
    "review": {"host": Setting("str"), "port": Setting("int", lo=1, hi=65535),
               "annotator": Setting("str"), "lease_minutes": Setting("float", lo=0, lo_open=True),
               "token": Setting("str"), "allowed_hosts": Setting("names"),
               "adjudicators": Setting("names")},
    "analysis": {"out": Setting("str"), "bootstrap": Setting("int", lo=10),
                 "seed": Setting("int", lo=0, hi=2**32 - 1),
                 "quantile": Setting("float", lo=0, hi=1, lo_open=True, hi_open=True),
                 "utilisation": Setting("float", lo=0, hi=1, lo_open=True),
                 "imputation_min_pairs": Setting("int", lo=3),
                 "imputation_min_r2": Setting("float", lo=0, hi=1)},
    "projection": {"chip_gflops": Setting("float", lo=0, lo_open=True),
                   "co2_lbs_per_chip_hour": Setting("float", lo=0),
                   "usd_per_chip_hour": Setting("float", lo=0), "targets": Setting("table")},
}
# Tables whose keys are names the user chooses (checked where they are read).
FREE_TABLES = {"benchmarks"}
# Every top-level key and table the config file may hold; anything else is a typo.
KNOWN_SECTIONS = set(SCHEMA[""]) | (set(SCHEMA) - {""}) | FREE_TABLES


def _nearest(word: str, known: list[str]) -> str:
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    return f"did you mean {close[0]}?" if close else f"known: {', '.join(sorted(known))}"


def check_config(data: dict[str, Any], path: Path) -> None:
    """Refuse unknown keys (naming the nearest known one) and values out of range."""
    for key, value in data.items():
        if key not in KNOWN_SECTIONS:
            home = [t for t, keys in SCHEMA.items() if t and key in keys]
            hint = (f"it belongs in the [{home[0]}] table" if home
                    else _nearest(key, sorted(KNOWN_SECTIONS)))
            raise ConfigError(f"Config file {path}: unknown setting {key}; {hint}")
        if key in FREE_TABLES:
            if not isinstance(value, dict):
                raise ConfigError(f"Config file {path}: [{key}] must be a table")
            continue
        spec = SCHEMA[""].get(key)
        if spec is not None:
            _check_value(path, "", key, value, spec)
            continue
        if not isinstance(value, dict):
            raise ConfigError(f"Config file {path}: {key} must be a table ([{key}])")
        for sub, subvalue in value.items():
            if sub not in SCHEMA[key]:
                raise ConfigError(f"Config file {path}: unknown setting [{key}] {sub}; "
                                  + _nearest(sub, list(SCHEMA[key])))
            _check_value(path, key, sub, subvalue, SCHEMA[key][sub])


def _check_value(path: Path, table: str, key: str, value: Any, spec: Setting) -> None:
    why = spec.check(value)
    if why:
        where = f"[{table}] {key}" if table else key
        shown = f'"{value}"' if isinstance(value, str) else str(value).lower() \
            if isinstance(value, bool) else str(value)
        raise ConfigError(f"Config file {path}: {where} = {shown} {why}"
                          if why.startswith(("is ", "must ")) else
                          f"Config file {path}: {where} = {shown}: {why}")


def load_config(path: Path | None, *, explicit: bool) -> dict[str, Any]:
    """Parse a dlcompute.toml. A missing file is an error only when named explicitly."""
    if path is None:
        return {}
    if not path.exists():
        if explicit:
            raise ConfigError(f"Config file {path} does not exist; create it or drop --config")
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"Config file {path} is not valid TOML: {e}; fix that line") from e
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"Cannot read config file {path}: {e}") from e
    check_config(data, path)
    return data


@dataclass(frozen=True)
class Settings:
    """Resolved settings for one command."""

    db: Path = Path(DEFAULT_DB)
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    config_path: Path | None = None
    config: dict[str, Any] = field(default_factory=dict)
    verbose: int = 0
    silent: bool = False

    def with_db(self, db: str | os.PathLike) -> Settings:
        return replace(self, db=Path(db))

    def section(self, name: str) -> dict[str, Any]:
        value = self.config.get(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f"Config file {self.config_path}: [{name}] must be a table")
        return value

    def pick(self, section: str, key: str, cli_value: Any, default: Any,
             env: str | None = None, cast: type | None = None) -> Any:
        """One setting by precedence: command line > environment > config > default.

        ``cli_value`` is None when the option was not given.
        """
        if key not in SCHEMA.get(section, {}):
            raise KeyError(f"[{section}] {key} is not in dlcompute.settings.SCHEMA; add it there")
        if cli_value is not None:
            return cli_value
        if env and os.environ.get(env) not in (None, ""):
            raw: Any = os.environ[env]
            where = f"environment variable {env}"
        elif key in self.section(section):
            raw = self.section(section)[key]
            where = f"config file {self.config_path} [{section}] {key}"
        else:
            return default
        if cast is None:
            return raw
        try:
            return cast(raw)
        except (TypeError, ValueError) as e:
            raise ConfigError(f"{where}: {raw!r} is not a valid {cast.__name__}") from e


def resolve(*, db: str | None, data_dir: str | None, config: str | None,
            verbose: int = 0, silent: bool = False) -> Settings:
    """Build Settings from command-line values (None = not given)."""
    explicit = config is not None or bool(os.environ.get(ENV_CONFIG))
    config_path = Path(config or os.environ.get(ENV_CONFIG) or DEFAULT_CONFIG_NAME)
    data = load_config(config_path, explicit=explicit)

    def top(cli_value: str | None, env: str, key: str, default: str) -> Path:
        if cli_value is not None:
            return Path(cli_value)
        if os.environ.get(env):
            return Path(os.environ[env])
        if key in data:
            value = Path(str(data[key]))
            # Relative paths in the config file are relative to the file.
            return value if value.is_absolute() else config_path.parent / value
        return Path(default)

    return Settings(
        db=top(db, ENV_DB, "db", DEFAULT_DB),
        data_dir=top(data_dir, ENV_DATA, "data_dir", DEFAULT_DATA_DIR),
        config_path=config_path if config_path.exists() else None,
        config=data,
        verbose=verbose,
        silent=silent,
    )
