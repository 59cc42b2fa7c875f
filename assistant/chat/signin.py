"""Sign-in for a chat served beyond loopback: the password check, with failed attempts
limited per user and per address, and the start-up line that says where to open it.

Gradio asks `SignIn` (its `auth` callable) for each sign-in; `SignInMiddleware` tells it
which address the attempt came from. After USER_LIMIT failed attempts for one user name, or
ADDRESS_LIMIT from one address, within WINDOW seconds, further attempts are refused (even
with the right password) with a 429 and a line saying how long to wait; the sign-in page
shows that line (signin.js).
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import math
import socket
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any

log = logging.getLogger("assistant.chat")

USER_LIMIT = 5  # failed attempts for one user name ...
ADDRESS_LIMIT = 20  # ... or from one address (several people may share one) ...
WINDOW = 300.0  # ... within this many seconds
_address: ContextVar[str] = ContextVar("sign_in_address", default="")

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]


SCRIPT = Path(__file__).with_name("signin.js")
# While the line of a refusal for too many attempts shows, Gradio's own "Incorrect
# Credentials" (still there from the attempts before, and wrong: the password may be right)
# is hidden: one message, the one that says what to do.
_STYLE = (
    "#ca-signin-problem{color:#b91c1c;font-weight:600;margin:4px 0}"
    "#ca-signin-problem:not(:empty)~.creds{display:none}"
    ".dark #ca-signin-problem{color:#fca5a5}"
    "@media (prefers-color-scheme:dark){#ca-signin-problem{color:#fca5a5}}"
)


class SignInMiddleware:
    """Pure ASGI, around the Gradio app when sign-in is on: remembers each request's address
    for the sign-in check, and adds signin.js to the HTML pages (Gradio's sign-in page shows
    none of the app's own head)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        script = SCRIPT.read_text(encoding="utf-8")
        self.tag = f"<style>{_STYLE}</style><script>{script}</script></head>".encode()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        token = _address.set(str(client[0]) if client else "")
        try:
            page = scope.get("method") == "GET"
            await self.app(scope, receive, self._with_script(send) if page else send)
        finally:
            _address.reset(token)

    def _with_script(self, send: Any) -> Callable[[dict[str, Any]], Awaitable[None]]:
        start: dict[str, Any] | None = None
        chunks: list[bytes] = []

        async def relay(message: dict[str, Any]) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                named = {k.lower(): v for k, v in message.get("headers", [])}
                html = named.get(b"content-type", b"").startswith(b"text/html")
                if html and b"content-encoding" not in named:
                    start = message  # held until the whole page is here
                    return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks).replace(b"</head>", self.tag, 1)
            headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        return relay


class SignIn:
    """The credentials check Gradio calls: `(user, password) -> bool`, throttled."""

    def __init__(
        self,
        credentials: list[tuple[str, str]],
        *,
        user_limit: int = USER_LIMIT,
        address_limit: int = ADDRESS_LIMIT,
        window: float = WINDOW,
    ) -> None:
        self.credentials = credentials
        self.limits = {"user": user_limit, "address": address_limit}
        self.window = window
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def wait(self, user: str, address: str, now: float | None = None) -> float:
        """Seconds until `user` from `address` may try again (0: now)."""
        now = time.monotonic() if now is None else now
        waits = [0.0]
        with self._lock:
            for key in (("user", user.casefold()), ("address", address)):
                times = self._recent(key, now)
                if len(times) >= self.limits[key[0]]:
                    waits.append(times[len(times) - self.limits[key[0]]] + self.window - now)
        return max(waits)

    def _matches(self, user: str, password: str) -> bool:
        found = False
        for known_user, known_password in self.credentials:  # no early exit: constant work
            same_user = hmac.compare_digest(user.encode(), known_user.encode())
            same_password = hmac.compare_digest(password.encode(), known_password.encode())
            found |= same_user and same_password
        return found

    def __call__(self, user: str, password: str) -> bool:
        from fastapi import HTTPException

        address = _address.get()
        wait = self.wait(user, address)
        if wait > 0:
            raise HTTPException(
                status_code=429,
                detail=f"Too many failed sign-ins for this user or from this address: "
                f"try again in {math.ceil(wait)} s.",
            )
        if self._matches(user, password):
            with self._lock:
                self._failures.pop(("user", user.casefold()), None)
            return True
        now = time.monotonic()
        with self._lock:
            for key in (("user", user.casefold()), ("address", address)):
                self._recent(key, now).append(now)
        log.warning("failed sign-in for %r from %s", user, address or "an unknown address")
        return False


def _interface_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback (Linux; [] elsewhere)."""
    found: list[str] = []
    with contextlib.suppress(OSError, ImportError, AttributeError):
        import fcntl
        import struct

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _, name in socket.if_nameindex():
                with contextlib.suppress(OSError):
                    request = struct.pack("256s", name[:15].encode())
                    packed = fcntl.ioctl(s.fileno(), 0x8915, request)  # SIOCGIFADDR
                    address = socket.inet_ntoa(packed[20:24])
                    if not address.startswith("127."):
                        found.append(address)
    return found


def reachable_url(host: str, port: int) -> str:
    """An address a browser can open: a wildcard host (0.0.0.0, ::) names this machine."""
    if host not in ("0.0.0.0", "::", ""):
        return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"
    addresses = _interface_addresses()
    return f"http://{addresses[0] if addresses else socket.gethostname()}:{port}/"


def startup_line(host: str, port: int, users: int, *, loopback: bool = False) -> str:
    """What `assistant chat` prints once the page is served (`users`: how many may sign
    in; 0 = no sign-in)."""
    url = reachable_url(host, port)
    where = f"chat open on {url}"
    if host in ("0.0.0.0", "::", ""):
        where += (
            f" (listening on every address of this machine; here also http://127.0.0.1:{port}/)"
        )
    if users:
        access = f"sign-in required ({users} user{'s' if users != 1 else ''})"
    elif loopback:
        access = "no sign-in (only this machine can reach it)"
    else:
        access = "NO sign-in: anyone who can reach it may ask and change the documents"
    return f"{where}; {access}. Ctrl+C stops it."
