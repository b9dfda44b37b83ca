"""`python -m proxy.healthcheck [URL]`: exit 0 when URL (default: the local /health) answers 200.

The container's HEALTHCHECK runs this. It uses only the standard library because the slim image
has no curl, and it imports nothing else from the proxy so that a probe every few seconds does
not load libvips or aiohttp.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from collections.abc import Sequence

DEFAULT_URL = "http://127.0.0.1:8080/health"
# Below the HEALTHCHECK --timeout, so a hung server is reported by us, not killed by Docker.
TIMEOUT = 4.0


def check(url: str = DEFAULT_URL, timeout: float = TIMEOUT) -> tuple[bool, str]:
    """(healthy, one line saying why)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            # urlopen follows redirects; anything but a plain 200 is not healthy.
            return response.status == 200, f"{url}: {response.status}"
    except urllib.error.HTTPError as exc:
        # /health answers 503 with a JSON body naming what is wrong: show it in `docker inspect`.
        body = exc.read(2000).decode("utf-8", "replace").strip()
        return False, f"{url}: {exc.code} {body}".rstrip()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return False, f"{url}: {reason}"


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) > 1 or (args and args[0] in ("-h", "--help")):
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 1  # Docker reserves exit code 2 in health checks
    healthy, line = check(args[0] if args else DEFAULT_URL)
    print(line, file=sys.stdout if healthy else sys.stderr)
    return 0 if healthy else 1


if __name__ == "__main__":
    raise SystemExit(main())
