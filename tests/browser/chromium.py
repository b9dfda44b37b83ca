"""Headless Chromium from Debian's packages, driven over the DevTools protocol.

Playwright's and Selenium's browser downloads are out of reach here, and neither is needed:
the protocol is JSON over one websocket (aiohttp's client). The browser runs as one process
for a test module; each test gets a browser context of its own (its own caches and
cookies), so no test sees what another loaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

BINARIES = ("chromium-headless-shell", "chromium")
# Without these it waits on this closed network (component updates, sync, field trials).
FLAGS = (
    "--headless",
    "--no-sandbox",  # it runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    "--remote-debugging-port=0",
)
TIMEOUT = 60.0  # generous: two shared cores, a browser and a proxy with its renders


def binary() -> str | None:
    for name in BINARIES:
        found = shutil.which(name)
        if found:
            return found
    return None


class Chromium:
    """The browser process; `debugger` is its DevTools websocket address."""

    def __init__(self) -> None:
        path = binary()
        if path is None:
            raise RuntimeError("no Chromium: install chromium-headless-shell (scripts/test.sh)")
        self.profile = Path(tempfile.mkdtemp(prefix="chromium-"))
        self.log = self.profile / "stderr.log"
        with open(self.log, "wb") as stderr:
            self.proc = subprocess.Popen(
                [path, *FLAGS, f"--user-data-dir={self.profile / 'profile'}", "about:blank"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
            )
        self.debugger = self._wait_for_port()
        self.version = json.loads(_http_get(self.debugger.replace("ws://", "http://", 1)))

    def _wait_for_port(self) -> str:
        active = self.profile / "profile" / "DevToolsActivePort"
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Chromium exited: {self.log.read_text()[-2000:]}")
            with contextlib.suppress(FileNotFoundError):
                lines = active.read_text().split()
                if len(lines) == 2:
                    return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
            time.sleep(0.05)  # the file appears once Chromium listens: polled, with a deadline
        raise RuntimeError("Chromium did not open its DevTools port")

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, 9)
        self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def _http_get(ws_url: str) -> str:
    import urllib.request

    host = ws_url.split("/devtools/")[0]
    with urllib.request.urlopen(host + "/json/version", timeout=10) as answer:
        return str(answer.read().decode())


class ProtocolError(Exception):
    pass


class Connection:
    """One websocket to the browser; sessions (pages) multiplexed on it, flattened."""

    def __init__(self, http: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._http = http
        self._ws = ws
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._listeners: list[Callable[[str | None, str, dict[str, Any]], None]] = []
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def open(cls, debugger: str) -> Connection:
        http = aiohttp.ClientSession()
        ws = await http.ws_connect(debugger, max_msg_size=0, timeout=aiohttp.ClientWSTimeout())
        return cls(http, ws)

    async def _read(self) -> None:
        async for message in self._ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            if "id" in data:
                future = self._pending.pop(data["id"], None)
                if future is not None and not future.done():
                    future.set_result(data)
            else:
                for listener in list(self._listeners):
                    listener(data.get("sessionId"), data["method"], data.get("params", {}))
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ProtocolError("the browser closed the connection"))

    async def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        message: dict[str, Any] = {"id": next(self._ids), "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[message["id"]] = future
        await self._ws.send_str(json.dumps(message))
        answer = await asyncio.wait_for(future, TIMEOUT)
        if "error" in answer:
            raise ProtocolError(f"{method}: {answer['error']}")
        return dict(answer.get("result", {}))

    def listen(self, listener: Callable[[str | None, str, dict[str, Any]], None]) -> None:
        self._listeners.append(listener)

    async def close(self) -> None:
        await self._ws.close()
        await self._http.close()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


class Page:
    """A tab in a browser context of its own, with everything it reports kept."""

    def __init__(self, connection: Connection, context: str, target: str, session: str) -> None:
        self.connection = connection
        self.context = context
        self.target = target
        self.session = session
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._changed = asyncio.Event()
        connection.listen(self._on_event)

    @classmethod
    async def open(cls, connection: Connection) -> Page:
        context = (await connection.send("Target.createBrowserContext"))["browserContextId"]
        target = (
            await connection.send(
                "Target.createTarget", {"url": "about:blank", "browserContextId": context}
            )
        )["targetId"]
        session = (
            await connection.send("Target.attachToTarget", {"targetId": target, "flatten": True})
        )["sessionId"]
        page = cls(connection, context, target, session)
        for domain in ("Page", "Runtime", "Network", "Log"):
            await page.send(f"{domain}.enable")
        return page

    def _on_event(self, session: str | None, method: str, params: dict[str, Any]) -> None:
        if session == self.session:
            self.events.append((method, params))
            self._changed.set()

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.connection.send(method, params, self.session)

    async def wait_for(self, what: str, found: Callable[[], Any], timeout: float = TIMEOUT) -> Any:
        """Wait until `found()` is true (checked at every event the page reports)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not (result := found()):
            self._changed.clear()
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError(f"waited {timeout:g}s for {what}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 1.0))
        return result

    def count(self, method: str) -> int:
        return sum(1 for m, _ in self.events if m == method)

    async def goto(self, url: str) -> None:
        """Navigate and wait for the load event of this navigation."""
        loads = self.count("Page.loadEventFired")
        answer = await self.send("Page.navigate", {"url": url})
        if "errorText" in answer:
            raise ProtocolError(f"navigation to {url} failed: {answer['errorText']}")
        await self.wait_for(f"the load of {url}", lambda: self.count("Page.loadEventFired") > loads)

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression (awaited when it is a promise)."""
        answer = await self.send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
        )
        if "exceptionDetails" in answer:
            raise ProtocolError(f"{expression[:80]}: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    async def until(self, expression: str, what: str, timeout: float = TIMEOUT) -> Any:
        """Wait, in the page, until `expression` is truthy; its value."""
        script = (
            f"new Promise((done, fail) => {{ const end = Date.now() + {int(timeout * 1000)};"
            f" (function check() {{ let v; try {{ v = ({expression}); }} catch (e) {{ return fail(e); }}"
            " if (v) return done(v); if (Date.now() > end) return done(null);"
            " requestAnimationFrame(check); })(); })"
        )
        value = await self.evaluate(script)
        if not value:
            raise TimeoutError(f"waited {timeout:g}s in the page for {what}")
        return value

    def responses(self, url_part: str = "") -> list[dict[str, Any]]:
        return [
            p["response"]
            for m, p in self.events
            if m == "Network.responseReceived" and url_part in p["response"]["url"]
        ]

    def requests(self, url_part: str = "") -> list[dict[str, Any]]:
        return [
            p["request"]
            for m, p in self.events
            if m == "Network.requestWillBeSent" and url_part in p["request"]["url"]
        ]

    def console_errors(self) -> list[str]:
        """Everything the console would show as an error: script errors, console.error, and
        the browser's own messages (blocked loads, CORS and CSP refusals, failed requests)."""
        errors = []
        for method, params in self.events:
            if method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                errors.append(details.get("exception", {}).get("description") or details["text"])
            elif method == "Runtime.consoleAPICalled" and params["type"] == "error":
                errors.append(
                    " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
                )
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                entry = params["entry"]
                errors.append(f"{entry.get('url', '')}: {entry['text']}")
        return errors

    async def close(self) -> None:
        await self.connection.send("Target.closeTarget", {"targetId": self.target})
        await self.connection.send(
            "Target.disposeBrowserContext", {"browserContextId": self.context}
        )
