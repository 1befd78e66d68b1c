"""Load a local HTML file in headless Chromium and report what the page did.

Talks the DevTools protocol over a minimal stdlib websocket client (no new dependencies), so a
test sees every console error, uncaught exception and network request of the page, can query
the rendered DOM, and can take a screenshot.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
)

# How long Chromium may take to start and a page to load: generous, since CI machines are slow.
STARTUP_TIMEOUT_S = 60.0
LOAD_TIMEOUT_S = 60.0


def find_chromium() -> str | None:
    for name in CHROMIUM_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


class WebSocket:
    """Just enough of RFC 6455 for a DevTools client: text frames, masking, fragmentation."""

    def __init__(self, url: str, timeout: float):
        parts = urlparse(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {parts.path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("DevTools closed the connection during the handshake")
            head += chunk
        status, _, self.buffer = head.partition(b"\r\n\r\n")
        if b" 101 " not in status.split(b"\r\n", 1)[0]:
            raise ConnectionError(f"DevTools refused the websocket: {status[:200]!r}")

    def _read_exact(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(max(65536, n - len(self.buffer)))
            if not chunk:
                raise ConnectionError("DevTools closed the connection")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def send(self, text: str) -> None:
        payload = text.encode()
        header = bytearray([0x81])  # FIN + text frame
        n = len(payload)
        if n < 126:
            header.append(0x80 | n)
        elif n < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes(header) + mask + masked)

    def recv(self) -> str:
        message = b""
        while True:
            b0, b1 = self._read_exact(2)
            opcode, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack(">H", self._read_exact(2))
            elif n == 127:
                (n,) = struct.unpack(">Q", self._read_exact(8))
            mask = self._read_exact(4) if b1 & 0x80 else None
            payload = self._read_exact(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x8:
                raise ConnectionError("DevTools closed the websocket")
            if opcode in (0x9, 0xA):  # ping / pong carry no protocol messages
                continue
            message += payload
            if b0 & 0x80:
                return message.decode()

    def close(self) -> None:
        self.sock.close()


@dataclass
class PageResult:
    """What happened while the page loaded."""

    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    # Every URL the page asked for other than the page itself and inline data: URLs.
    requests: list[str] = field(default_factory=list)
    failed_loads: list[str] = field(default_factory=list)
    values: dict[str, object] = field(default_factory=dict)
    screenshot: Path | None = None

    @property
    def problems(self) -> list[str]:
        return (
            [f"console error: {m}" for m in self.console_errors]
            + [f"uncaught exception: {m}" for m in self.exceptions]
            + [f"network request: {u}" for u in self.requests]
            + [f"failed load: {u}" for u in self.failed_loads]
        )


class DevToolsSession:
    def __init__(self, ws: WebSocket):
        self.ws = ws
        self.next_id = 0
        self.events: list[dict] = []
        self.session_id: str | None = None

    def call(self, method: str, params: dict | None = None, timeout: float = LOAD_TIMEOUT_S) -> dict:
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if self.session_id:
            msg["sessionId"] = self.session_id
        self.ws.send(json.dumps(msg))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method} failed: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)
        raise TimeoutError(f"no reply to {method} within {timeout}s")

    def wait_for(self, method: str, timeout: float = LOAD_TIMEOUT_S) -> dict:
        for event in self.events:
            if event.get("method") == method:
                return event
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = json.loads(self.ws.recv())
            self.events.append(event)
            if event.get("method") == method:
                return event
        raise TimeoutError(f"no {method} within {timeout}s")


def _start_chromium(binary: str, profile: str) -> tuple[subprocess.Popen, str]:
    # Its own process group, so the renderer and GPU helpers it forks can be stopped with it.
    proc = subprocess.Popen(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    port_file = Path(profile) / "DevToolsActivePort"
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"chromium exited with status {proc.returncode} before DevTools started")
        if port_file.exists():
            lines = port_file.read_text().split()
            if len(lines) >= 2:
                return proc, f"ws://127.0.0.1:{lines[0]}{lines[1]}"
        time.sleep(0.05)
    _stop(proc)
    raise TimeoutError("chromium did not open its DevTools port")


def _stop(proc: subprocess.Popen) -> None:
    """Stop the browser and every helper process it started (its process group)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=30)


def _page_summary(args: list[dict]) -> str:
    return " ".join(str(a.get("value", a.get("description", ""))) for a in args)


def load_page(
    html_file: Path,
    *,
    evaluate: dict[str, str] | None = None,
    screenshot: Path | None = None,
    width: int = 1280,
    height: int = 4000,
    settle_s: float = 0.3,
    clip: tuple[int, int, int, int] | None = None,
    media: str | None = None,
    color_scheme: str | None = None,
) -> PageResult:
    """Open ``html_file`` in a fresh headless Chromium profile and record what the page did.

    ``evaluate`` maps names to JavaScript expressions evaluated after load (JSON-able results
    land in ``PageResult.values``). ``screenshot`` writes a PNG of the top ``width`` x ``height``,
    or of ``clip`` = (x, y, w, h) in page pixels. ``media`` ("print") and ``color_scheme``
    ("dark", "light") emulate how the page is shown.
    """
    binary = find_chromium()
    if binary is None:
        raise FileNotFoundError("chromium is not installed")
    page_url = Path(html_file).resolve().as_uri()
    # Helpers may still be flushing the profile while it is removed; leftovers are harmless.
    with tempfile.TemporaryDirectory(prefix="trainlint-chromium-", ignore_cleanup_errors=True) as profile:
        proc, browser_url = _start_chromium(binary, profile)
        ws = None
        try:
            ws = WebSocket(browser_url, timeout=LOAD_TIMEOUT_S)
            cdp = DevToolsSession(ws)
            target = cdp.call("Target.createTarget", {"url": "about:blank"})
            attached = cdp.call("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
            cdp.session_id = attached["sessionId"]
            for domain in ("Page", "Runtime", "Log", "Network"):
                cdp.call(f"{domain}.enable")
            cdp.call(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            )
            emulated: dict = {"media": media or "", "features": []}
            if color_scheme:
                emulated["features"].append({"name": "prefers-color-scheme", "value": color_scheme})
            cdp.call("Emulation.setEmulatedMedia", emulated)
            cdp.call("Page.navigate", {"url": page_url})
            cdp.wait_for("Page.loadEventFired")
            # Late console messages and lazy requests arrive after load; give them a moment.
            time.sleep(settle_s)
            result = PageResult()
            if evaluate:
                for name, expression in evaluate.items():
                    reply = cdp.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
                    if "exceptionDetails" in reply:
                        raise RuntimeError(f"evaluating {name!r} failed: {reply['exceptionDetails']}")
                    result.values[name] = reply["result"].get("value")
            if screenshot is not None:
                params: dict = {"format": "png"}
                if clip is not None:
                    x, y, w, h = clip
                    params["clip"] = {"x": x, "y": y, "width": w, "height": h, "scale": 1}
                    params["captureBeyondViewport"] = True
                shot = cdp.call("Page.captureScreenshot", params)
                Path(screenshot).write_bytes(base64.b64decode(shot["data"]))
                result.screenshot = Path(screenshot)
            _collect(cdp.events, page_url, result)
            return result
        finally:
            if ws is not None:
                ws.close()
            _stop(proc)


def _collect(events: list[dict], page_url: str, result: PageResult) -> None:
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            result.console_errors.append(_page_summary(params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            result.exceptions.append(details.get("exception", {}).get("description") or details.get("text", ""))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            result.console_errors.append(f"{entry.get('text', '')} {entry.get('url', '')}".strip())
        elif method == "Network.requestWillBeSent":
            url = params.get("request", {}).get("url", "")
            if url != page_url and not url.startswith("data:"):
                result.requests.append(url)
        elif method == "Network.loadingFailed":
            result.failed_loads.append(params.get("errorText", "") + " " + params.get("requestId", ""))
