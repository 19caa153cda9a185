"""JSON-RPC protocol errors, in the project's one error tree (`SidechainError`).

The standard codes are JSON-RPC 2.0's; -32005 is EIP-1474's "limit exceeded". Chain and pool
errors keep their own `rpc_code` (see `sidechain.errors`).
"""

from __future__ import annotations

from ..errors import SidechainError


class ParseError(SidechainError):
    """The request body is not valid JSON."""

    rpc_code = -32700


class InvalidRequest(SidechainError):
    """Valid JSON, but not a JSON-RPC 2.0 request object (or an empty or oversized batch)."""

    rpc_code = -32600


class MethodNotFound(SidechainError):
    """No such method, or not available over this transport."""

    rpc_code = -32601


class InvalidParams(SidechainError):
    """A parameter is missing, extra, or of the wrong shape; the message names it."""

    rpc_code = -32602


class BadParam(InvalidParams, ValueError):
    """One parameter's value has the wrong shape; the message says what was expected and got. The
    dispatcher prefixes which argument it was; also a ValueError, as a parser's failure."""


class InternalError(SidechainError):
    """A bug: the server logs the traceback and answers only this."""

    rpc_code = -32603


class LimitExceeded(SidechainError):
    """The request asks for more than the server serves in one call (block range, results)."""

    rpc_code = -32005


class RequestTooLarge(SidechainError):
    """The request body is larger than the configured limit (HTTP 413)."""

    rpc_code = -32600
