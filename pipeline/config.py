"""speechledger.toml: settings a secretariat sets once (which ledger, who reports, warning days).

Looked up in the working folder first, then in the user's config folder
($XDG_CONFIG_HOME/speechledger/ or ~/.config/speechledger/; %APPDATA%\\speechledger\\ on
Windows). Keys (all optional):

    db = "outputs/ledger.sqlite"   # a SQLite path (relative to this file) or an SQLAlchemy URL
    by = "督查室"                   # default author of `status` updates
    due_soon_days = 7              # 预警 yellow: due within this many days
    title = "重点工作任务台账"        # name in the XLSX title row
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

CONFIG_NAME = "speechledger.toml"
KEYS = {"db": str, "by": str, "due_soon_days": int, "title": str}


class ConfigError(ValueError):
    """A speechledger.toml that cannot be read or holds a bad value."""


@dataclass
class Config:
    path: Path | None = None
    values: dict = field(default_factory=dict)

    def get(self, key: str, default=None):
        return self.values.get(key, default)


def user_config_dir() -> Path:
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "speechledger"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "speechledger"


def config_candidates(cwd: str | Path | None = None) -> list[Path]:
    return [Path(cwd or os.getcwd()) / CONFIG_NAME, user_config_dir() / CONFIG_NAME]


def load_config(cwd: str | Path | None = None) -> Config:
    """The first speechledger.toml found (working folder, then user config folder), or an empty Config."""
    import tomllib
    for path in config_candidates(cwd):
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise ConfigError(f"{path}: cannot read the config: {e}") from None
        values = {}
        for key, value in data.items():
            kind = KEYS.get(key)
            if kind is None:
                raise ConfigError(f"{path}: unknown key {key!r}; known keys: {', '.join(KEYS)}")
            if not isinstance(value, kind) or isinstance(value, bool):
                raise ConfigError(f"{path}: {key} must be a {kind.__name__}, got {value!r}")
            values[key] = value
        if "db" in values and "://" not in values["db"]:
            values["db"] = str((path.parent / values["db"]).resolve())   # relative to the file
        return Config(path, values)
    return Config()
