"""JSON-RPC 2.0 answers as text: error objects, results (a long list encoded piece by piece under
the running call's budget) and the check of a request object's envelope (its id)."""

from __future__ import annotations

import json

from ..errors import SidechainError
from . import budget as budgets
from .budget import ResponseTooLarge
from .errors import InvalidRequest

encode_json = json.JSONEncoder(separators=(",", ":")).encode
_ID_TYPES = (str, int, float, type(None))


def error_object(request_id: object, code: int, message: str, data: bytes | None = None) -> dict:
    error: dict = {"code": code, "message": message}
    if data is not None:
        error["data"] = "0x" + data.hex()
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


def error_body(code: int, message: str) -> str:
    return encode_json(error_object(None, code, message))


def error_text(request_id: object, exc: SidechainError) -> str:
    return encode_json(error_object(request_id, exc.rpc_code, str(exc)))


def encode_response(response: dict) -> str:
    """The response's JSON; a list result element by element, so a worker thread encoding
    megabytes gives the event loop the interpreter between elements (json's C encoder never does)."""
    result = response.get("result")
    if type(result) is not list or len(result) < 64:
        return encode_json(response)
    budget = budgets.current()
    parts, size = [], 0
    for item in result:
        text = encode_json(item)
        parts.append(text)
        size += len(text) + 1
        if budget is not None and size > budget.bytes_left:
            raise ResponseTooLarge()
    return '{"jsonrpc":"2.0","id":' + encode_json(response["id"]) + ',"result":[' + ",".join(parts) + "]}"


def read_envelope(request: object) -> tuple[object, bool] | dict:
    """(id, is a notification) of a request object, or the error object answering a malformed one."""
    if type(request) is not dict:
        return error_object(None, InvalidRequest.rpc_code, "invalid request: expected a JSON object")
    request_id = request.get("id")
    if type(request_id) not in _ID_TYPES or type(request_id) is bool:
        return error_object(None, InvalidRequest.rpc_code, "invalid request: id must be a string, a number or null")
    return request_id, "id" not in request
