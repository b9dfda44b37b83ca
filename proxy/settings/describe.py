"""What `python -m proxy where` prints: where everything is, secrets masked."""

from __future__ import annotations

from proxy.settings.catalog import SETTINGS
from proxy.settings.model import Settings
from proxy.units import format_duration, format_size_setting


def mask(value: str) -> str:
    """Show that a secret is set without showing it."""
    return "" if not value else "****" + (value[-2:] if len(value) > 12 else "")


def access_summary(settings: Settings) -> str:
    """Who may read, in a few words: which checks the access rule runs."""
    access, checks = settings.access, []
    if access.bearer_token:
        checks.append("bearer token")
    if settings.previews.signature_pairs:
        checks.append(
            "signed URLs" if access.signature_scope == "all" else "signed previews (only)"
        )
    if access.auth_request_url:
        checks.append(f"auth service {access.auth_request_url} (per {access.auth_request_scope})")
    return ", ".join(checks) or "anyone who reaches the port (no key, bearer or auth service)"


def describe(settings: Settings) -> list[tuple[str, str]]:
    """Name/value pairs, secrets masked."""
    storage = settings.storage
    named = bool(settings.raw.get("NODE_NAME", "").strip())
    rows: list[tuple[str, str]] = [
        ("env file", str(settings.env_file or "(none)")),
        ("NODE_NAME", settings.node_name if named else f"{settings.node_name} (host name)"),
        ("DATA_PATH", str(settings.data_path)),
        ("STORAGE_PROVIDER", storage.provider),
        ("STORAGE_BUCKETS", ",".join(storage.buckets) or "(none)"),
    ]
    if storage.provider == "http":
        rows.append(("storage folder", str(storage.root)))
    else:
        endpoint = storage.endpoint + (" (default: AWS S3)" if storage.endpoint_is_default else "")
        rows.append(("STORAGE_ENDPOINT", endpoint))
    for setting in SETTINGS:
        if not setting.name.startswith("STORAGE_") or storage.provider == "http":
            continue
        if setting.name in ("STORAGE_PROVIDER", "STORAGE_BUCKETS", "STORAGE_ENDPOINT"):
            continue
        value = settings.raw.get(setting.name, setting.default)
        if value:
            rows.append((setting.name, mask(value) if setting.secret else value))
    for cache in settings.caches.values():
        bound = format_size_setting(cache.size)
        rows.append(
            (
                f"cache {cache.name}",
                f"{cache.path} (size {bound}, expires {format_duration(cache.expires)})",
            )
        )
    rows.append(("access", access_summary(settings)))
    for setting in SETTINGS:
        if setting.secret and not setting.name.startswith("STORAGE_"):
            value = settings.raw.get(setting.name, "")
            if value:
                rows.append((setting.name, mask(value)))
    return rows
