"""Typed settings, parsed and validated once at start from the environment and a `.env` file.

`catalog` declares every setting once (name, default, kind, meaning); `kinds` parses and
bounds values; `model` is what the rest of the proxy reads; `load` builds it; `describe`
is what `where` prints.
"""

from proxy.settings.catalog import CACHE_NAMES, PROVIDERS, SETTINGS, Setting
from proxy.settings.describe import describe, mask
from proxy.settings.load import available_cores, load_settings, parse_settings, read_env_file
from proxy.settings.model import (
    AccessSettings,
    CacheSettings,
    PreviewSettings,
    Settings,
    SettingsError,
    StorageSettings,
)

__all__ = [
    "CACHE_NAMES",
    "PROVIDERS",
    "SETTINGS",
    "AccessSettings",
    "CacheSettings",
    "PreviewSettings",
    "Setting",
    "Settings",
    "SettingsError",
    "StorageSettings",
    "available_cores",
    "describe",
    "load_settings",
    "mask",
    "parse_settings",
    "read_env_file",
]
