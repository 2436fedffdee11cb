"""Checks on every request before anything reads it: no NUL in its path or query, a body
within WFA_API_MAX_BODY_BYTES.

A NUL character cannot be stored or compared as PostgreSQL text (the audit row, a workflow id):
refused here with a 400 instead of failing in the database. A body over the limit is refused
with a 413 from its Content-Length, before a byte of it is read; without one (chunked), by
counting while it is read, so an oversize body is never held whole.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from fastapi.responses import JSONResponse

from api.errors import PayloadTooLarge, error_body


def too_large_message(limit: int) -> str:
    return f"the request body exceeds {limit:,} bytes (WFA_API_MAX_BODY_BYTES)"


class RequestGuards:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        # the query decoded as the application decodes it, %00 and all
        if "\x00" in scope["path"] or b"\x00" in unquote_to_bytes(scope["query_string"]):
            return await _answer(scope, receive, send, 400, "bad_request",
                                 "the path or query contains a NUL character (%00)")
        limit = scope["app"].state.settings.api_max_body_bytes
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None:
            # h11 has checked that it is a number
            if int(length) > limit:
                return await _answer(scope, receive, send, 413, "payload_too_large",
                                     too_large_message(limit))
            return await self.app(scope, receive, send)
        received = 0

        async def counted():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge(too_large_message(limit))
            return message

        await self.app(scope, counted, send)


async def _answer(scope, receive, send, status: int, code: str, message: str) -> None:
    await JSONResponse(error_body(code, message), status)(scope, receive, send)
