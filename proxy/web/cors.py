"""Cross-origin reads: CORS for web apps on other origins, CORP for pages with COEP.

A web app on another origin that draws a preview into a canvas (or a WebGL texture) or
reads it with `fetch()` needs `Access-Control-Allow-Origin` on the image; a page with
`Cross-Origin-Embedder-Policy: require-corp` shows no image that lacks
`Cross-Origin-Resource-Policy`. Both are sent on the image routes only, never on /health,
/metrics or /admin/ (operators' endpoints no browser app should read).

With `*`, the headers are the same for everyone (no `Vary: Origin`, no credentials). With a
list of origins, a listed origin is echoed, with `Access-Control-Allow-Credentials` (a
listed app may send the cookies an auth service reads), and every answer says
`Vary: Origin`, since it depends on it. An origin not listed gets no
`Access-Control-Allow-*` header at all; the request itself is served or refused as it
would be without CORS.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

# What a web app may read beyond the CORS-safelisted response headers.
EXPOSED = "X-Cache-Status, ETag, Content-Disposition, Content-Range, X-Served-By"
# What a preflight may ask for: validators and ranges, and the access rule's credentials.
ALLOWED_HEADERS = frozenset(
    {"authorization", "range", "if-none-match", "if-modified-since", "if-range", "cache-control"}
)
PREFLIGHT_MAX_AGE = "7200"  # Chromium's own cap
OPERATORS = ("/health", "/metrics", "/admin")


def is_operators(raw_path: str) -> bool:
    return any(raw_path == p or raw_path.startswith(p + "/") for p in OPERATORS)


class CrossOrigin:
    def __init__(self, allow: tuple[str, ...], resource_policy: str) -> None:
        self.any = allow == ("*",)
        self.origins = frozenset(() if self.any else allow)
        self.enabled = bool(allow)
        corp = {"Cross-Origin-Resource-Policy": resource_policy}
        self._for_all = {
            **corp,
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Expose-Headers": EXPOSED,
            "Timing-Allow-Origin": "*",
        }
        self._off = corp
        self._unlisted = {**corp, "Vary": "Origin"}
        self._listed: dict[str, dict[str, str]] = {
            origin: {
                **corp,
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Credentials": "true",
                "Access-Control-Expose-Headers": EXPOSED,
                "Timing-Allow-Origin": origin,
                "Vary": "Origin",
            }
            for origin in self.origins
        }

    def headers(self, origin: str | None) -> Mapping[str, str]:
        """What an image answer carries for a request from `origin` (do not change it)."""
        if self.any:
            return self._for_all
        if not self.origins:
            return self._off
        return self._listed.get(origin or "", self._unlisted)

    def allowed(self, origin: str | None) -> bool:
        return self.any or (origin is not None and origin in self.origins)

    def preflight(self, request: web.BaseRequest) -> web.Response | None:
        """The answer to a CORS preflight, or None when this is not one (or CORS is off).

        Answered before the access rule: a browser never sends credentials on a preflight,
        and the preflight reads nothing; the request it announces still runs the rule."""
        headers = request.headers
        origin = headers.get("Origin")
        wanted = headers.get("Access-Control-Request-Method")
        if not self.enabled or origin is None or wanted is None:
            return None
        if is_operators(request.rel_url.raw_path):
            return None
        answer: dict[str, str] = {"Vary": "Origin"} if not self.any else {}
        if self.allowed(origin) and wanted in ("GET", "HEAD"):
            asked = headers.get("Access-Control-Request-Headers", "")
            granted = [h.strip() for h in asked.split(",") if h.strip().lower() in ALLOWED_HEADERS]
            answer.update(
                {
                    "Access-Control-Allow-Origin": "*" if self.any else origin,
                    "Access-Control-Allow-Methods": "GET, HEAD",
                    "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
                }
            )
            if granted:
                answer["Access-Control-Allow-Headers"] = ", ".join(granted)
            if not self.any:
                answer["Access-Control-Allow-Credentials"] = "true"
        return web.Response(status=204, headers=answer)


def merge_vary(headers: dict[str, str], extra: Mapping[str, str]) -> None:
    """Add `extra` to `headers`, joining the two `Vary` lists rather than replacing one."""
    vary = headers.get("Vary")
    headers.update(extra)
    if vary and "Vary" in extra and vary != extra["Vary"]:
        headers["Vary"] = f"{vary}, {extra['Vary']}"
