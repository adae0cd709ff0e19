"""Settings: command line > environment > dlcompute.toml > built-in default.

``dlcompute.toml`` (or the file named by ``--config`` / ``DLCOMPUTE_CONFIG``)
holds top-level keys (``db``, ``data_dir``) and one table per stage
(``[crawl]``, ``[extract]``, ``[analysis]``, ``[review]``, ``[benchmarks.NAME]``).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from db.errors import DlcomputeError

DEFAULT_CONFIG_NAME = "dlcompute.toml"
DEFAULT_DB = "dlcompute.db"
DEFAULT_DATA_DIR = "data"

ENV_DB = "DLCOMPUTE_DB"
ENV_DATA = "DLCOMPUTE_DATA"
ENV_CONFIG = "DLCOMPUTE_CONFIG"

# Every top-level key and table the config file may hold; anything else is a typo.
KNOWN_SECTIONS = {"db", "data_dir", "crawl", "extract", "curate", "analysis", "review",
                  "benchmarks", "run", "projection", "hardware"}


class ConfigError(DlcomputeError):
    """The config file is missing, malformed or holds an unknown setting."""


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
    unknown = sorted(set(data) - KNOWN_SECTIONS)
    if unknown:
        raise ConfigError(
            f"Config file {path}: unknown setting(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(KNOWN_SECTIONS))}"
        )
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
