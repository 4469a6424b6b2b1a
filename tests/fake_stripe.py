"""A fake Stripe API on loopback: records every request (method, path, headers, form body) and answers
like Stripe's API for the few endpoints QReady calls; and webhook signing as Stripe does it."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, list[str]]
    query: dict[str, list[str]]

    def one(self, key: str) -> str | None:
        values = self.form.get(key) or self.query.get(key)
        return values[0] if values else None


@dataclass
class FakeStripe:
    base: str = ""
    requests: list[Seen] = field(default_factory=list)
    invoices: list[dict[str, Any]] = field(default_factory=list)
    sessions: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    fail: bool = False  # answer 500 to everything (Stripe is down)

    def calls(self, method: str, path: str) -> list[Seen]:
        return [r for r in self.requests if r.method == method and r.path == path]


def _handler(fake: FakeStripe) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _answer(self, status: int, body: dict[str, Any] | str, ctype: str = "application/json") -> None:
            data = (json.dumps(body) if isinstance(body, dict) else body).encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _record(self) -> Seen:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            url = urlsplit(self.path)
            seen = Seen(
                self.command,
                url.path,
                {k.lower(): v for k, v in self.headers.items()},
                parse_qs(raw, keep_blank_values=True),
                parse_qs(url.query, keep_blank_values=True),
            )
            fake.requests.append(seen)
            return seen

        def do_GET(self) -> None:
            seen = self._record()
            if seen.path.startswith("/pay/"):  # the "Checkout page": a link back to success_url
                session = fake.sessions.get(seen.path.rsplit("/", 1)[-1], {})
                back = (session.get("success_url") or ["/"])[0]
                self._answer(
                    200,
                    f'<html><body><h1>Fake Checkout</h1><a id="pay" href="{back}">Pay</a></body></html>',
                    "text/html",
                )
                return
            if fake.fail:
                self._answer(500, {"error": {"type": "api_error", "message": "down"}})
                return
            if seen.path == "/v1/invoices":
                self._answer(
                    200, {"object": "list", "url": "/v1/invoices", "has_more": False, "data": fake.invoices}
                )
                return
            self._answer(404, {"error": {"type": "invalid_request_error", "message": "no such path"}})

        def do_POST(self) -> None:
            seen = self._record()
            if fake.fail:
                self._answer(500, {"error": {"type": "api_error", "message": "down"}})
                return
            if seen.path == "/v1/customers":
                self._answer(200, {"id": "cus_test_1", "object": "customer", "name": seen.one("name")})
            elif seen.path.startswith("/v1/customers/"):
                self._answer(
                    200, {"id": seen.path.rsplit("/", 1)[-1], "object": "customer", "name": seen.one("name")}
                )
            elif seen.path == "/v1/checkout/sessions":
                sid = f"cs_test_{len(fake.sessions) + 1}"
                fake.sessions[sid] = seen.form
                self._answer(
                    200,
                    {
                        "id": sid,
                        "object": "checkout.session",
                        "url": f"{fake.base}/pay/{sid}",
                        "mode": seen.one("mode"),
                    },
                )
            elif seen.path == "/v1/billing_portal/sessions":
                self._answer(
                    200,
                    {"id": "bps_1", "object": "billing_portal.session", "url": f"{fake.base}/portal/bps_1"},
                )
            else:
                self._answer(404, {"error": {"type": "invalid_request_error", "message": "no such path"}})

    return Handler


def start() -> tuple[FakeStripe, ThreadingHTTPServer]:
    fake = FakeStripe()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake, server


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header as Stripe makes it: HMAC-SHA256 of "<t>.<body>"."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def event(event_type: str, obj: dict[str, Any], *, event_id: str, created: int) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": created,
            "livemode": False,
            "api_version": "2025-09-30.clover",
            "data": {"object": obj},
        }
    ).encode()
