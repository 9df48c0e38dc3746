"""A language model as a service (chapter 14): an OpenAI-compatible chat server on 127.0.0.1.

:class:`ChatServer` serves a text generator behind the de-facto standard chat API, the one the
official ``openai`` client speaks and that vLLM, TGI, llama.cpp and Ollama also offer:

- ``GET /v1/models`` lists the model, ``GET /v1/models/NAME`` describes it;
- ``POST /v1/chat/completions`` with ``{"model": NAME, "messages": [{"role": "user", "content": ...}],
  ...}`` answers a ``chat.completion`` object, or, with ``"stream": true``, a stream of server-sent
  events (服务器推送事件): one ``data: {chat.completion.chunk}`` line per piece of text, then
  ``data: [DONE]``.

It follows the hardening rules of :class:`course_lib.deployment.PredictionServer` (and reuses its
helpers): loopback by default, a Host check, JSON bodies only, a body-size cap, read timeouts,
strict validation with OpenAI-style error objects, no traceback in any reply, a thread per client,
and a clean shutdown as a context manager. :func:`sse_events` reads a stream back (tests and the
notebook use it to look at the raw events).
"""

from __future__ import annotations

import hmac
import itertools
import json
import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable, Iterator, Mapping

from course_lib.deployment import _BadRequest, _host_forms, _read_json_request, _ThreadedServer

__all__ = ["ChatServer", "ChatRequestError", "sse_events", "ROLES"]

#: The message roles the server accepts ("developer" is OpenAI's newer name for "system").
ROLES = ("system", "developer", "user", "assistant")
_KNOWN = {"model", "messages", "max_tokens", "max_completion_tokens", "temperature", "stream",
          "stream_options", "seed", "n", "user"}
_MAX_BODY = 1 << 20  # 1 MiB of JSON is far more than any prompt this course's models can read


class ChatRequestError(ValueError):
    """Raised by a generator to refuse a request it cannot serve (answered 400, with this message).

    For example a prompt longer than the model's context, or a conversation that does not end with
    a user message.
    """

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message, self.param = message, param


class _ApiError(_BadRequest):
    """A refused request with the fields of an OpenAI error object."""

    def __init__(self, code: int, message: str, param: str | None = None, error_code: str | None = None) -> None:
        super().__init__(code, message)
        self.param, self.error_code = param, error_code


def _error_body(code: int, message: str, param: str | None = None, error_code: str | None = None) -> dict:
    kind = "server_error" if code >= 500 else "invalid_request_error"  # the two types OpenAI's API uses
    return {"error": {"message": message, "type": kind, "param": param, "code": error_code}}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text_of(content: Any, i: int) -> str:
    """A message's text: a string, or a list of ``{"type": "text", "text": ...}`` parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and content:
        pieces = []
        for j, part in enumerate(content):
            if not (isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)):
                raise _ApiError(422, f"messages[{i}].content[{j}]: only text parts "
                                     '{"type": "text", "text": "..."} are supported', f"messages[{i}].content")
            pieces.append(part["text"])
        return "".join(pieces)
    raise _ApiError(422, f"messages[{i}].content: expected a string, got {type(content).__name__}",
                    f"messages[{i}].content")


def _parse_request(body: Any, model_name: str, max_tokens_limit: int) -> dict[str, Any]:
    """Validate a chat-completions body; return the generator's arguments and the response options."""
    if not isinstance(body, dict):
        raise _ApiError(400, 'expected a JSON object {"model": ..., "messages": [...]}')
    unknown = sorted(set(body) - _KNOWN)
    if unknown:
        raise _ApiError(422, f"unsupported parameter {unknown[0]!r}; this server accepts {sorted(_KNOWN)}", unknown[0])
    if "model" not in body or not isinstance(body["model"], str):
        raise _ApiError(422, "expected 'model' to be a string, the name of the model", "model")
    if body["model"] != model_name:
        raise _ApiError(404, f"the model {body['model']!r:.80} does not exist; this server has {model_name!r}",
                        "model", "model_not_found")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise _ApiError(422, "expected 'messages' to be a non-empty list of {\"role\", \"content\"} objects",
                        "messages")
    clean = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            raise _ApiError(422, f"messages[{i}]: expected an object, got {type(m).__name__}", f"messages[{i}]")
        if m.get("role") not in ROLES:
            raise _ApiError(422, f"messages[{i}].role: expected one of {list(ROLES)}, got {m.get('role')!r:.40}",
                            f"messages[{i}].role")
        extra = sorted(set(m) - {"role", "content", "name"})
        if extra:
            raise _ApiError(422, f"messages[{i}]: unsupported field {extra[0]!r}", f"messages[{i}]")
        clean.append({"role": m["role"], "content": _text_of(m.get("content"), i)})
    limits = [(k, body[k]) for k in ("max_tokens", "max_completion_tokens") if body.get(k) is not None]
    for key, value in limits:
        if not _is_int(value) or not 1 <= value <= max_tokens_limit:
            raise _ApiError(422, f"expected {key} to be an integer in [1, {max_tokens_limit}], got {value!r:.40}", key)
    if len(limits) == 2 and limits[0][1] != limits[1][1]:
        raise _ApiError(422, "max_tokens and max_completion_tokens disagree; send one of them", "max_tokens")
    max_tokens = limits[0][1] if limits else max_tokens_limit
    temperature = body.get("temperature", 1.0)
    temperature = 1.0 if temperature is None else temperature
    if (isinstance(temperature, bool) or not isinstance(temperature, (int, float))
            or not math.isfinite(temperature) or not 0 <= temperature <= 2):
        raise _ApiError(422, f"expected temperature to be a number in [0, 2], got {temperature!r:.40}", "temperature")
    seed = body.get("seed")
    if seed is not None and not _is_int(seed):
        raise _ApiError(422, f"expected seed to be an integer, got {seed!r:.40}", "seed")
    n = body.get("n", 1)
    if n is not None and (not _is_int(n) or n != 1):
        raise _ApiError(422, f"this server returns one choice per request: n must be 1, got {n!r:.40}", "n")
    stream = body.get("stream", False)
    stream = False if stream is None else stream
    if not isinstance(stream, bool):
        raise _ApiError(422, f"expected stream to be true or false, got {stream!r:.40}", "stream")
    options = body.get("stream_options")
    include_usage = False
    if options is not None:
        if not stream:
            raise _ApiError(422, "stream_options is only allowed with stream: true", "stream_options")
        if not (isinstance(options, dict) and set(options) <= {"include_usage"}
                and isinstance(options.get("include_usage", False), bool)):
            raise _ApiError(422, 'expected stream_options to be {"include_usage": true or false}', "stream_options")
        include_usage = options.get("include_usage", False)
    if body.get("user") is not None and not isinstance(body["user"], str):
        raise _ApiError(422, "expected user to be a string", "user")
    return {"messages": clean, "max_tokens": max_tokens, "temperature": float(temperature), "seed": seed,
            "stream": stream, "include_usage": include_usage}


def sse_events(text: str) -> list[str]:
    """The ``data`` fields of a server-sent-event stream, in order (``[DONE]`` included).

    Lines are separated by ``\\n``, ``\\r\\n`` or ``\\r``; an event ends at a blank line; several
    ``data:`` lines of one event are joined with ``\\n``; one space after the colon is dropped;
    comment lines (starting with ``:``) and other fields (``event:``, ``id:``, ``retry:``) are
    skipped — the rules of the HTML standard's event-stream format.
    """
    if not isinstance(text, str):
        raise TypeError(f"expected text to be the stream's text (a str), got {type(text).__name__}")
    events, data = [], []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line:
            if data:
                events.append("\n".join(data))
            data = []
            continue
        if line.startswith(":"):
            continue
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "data":
            data.append(value)
    if data:
        events.append("\n".join(data))
    return events


class ChatServer(_ThreadedServer):
    """Serve ``generate`` on ``http://127.0.0.1:PORT/v1`` with OpenAI's chat-completions API, in a thread.

    ``generate(messages, max_tokens=..., temperature=..., seed=...)`` receives the validated
    messages (a list of ``{"role", "content"}`` dicts with string contents) and returns an iterable
    of text pieces, one per generated token, at most ``max_tokens`` of them; their concatenation is
    the reply. It is iterated lazily, so a streamed reply sends each piece as it is made. A reply of
    exactly ``max_tokens`` pieces finishes with ``"length"``, a shorter one with ``"stop"``. It may
    raise :class:`ChatRequestError` to refuse a request (400); any other error is a 500 whose message
    names only the exception's type.

    Status codes: 200; 400 (body not a JSON object, not JSON, not UTF-8, a foreign Host, a request
    the generator refuses); 401 (a wrong API key, when ``api_key`` is set); 404 (an unknown path or
    model); 405 (another method); 408, 411, 413, 415 (as for ``PredictionServer``); 422 (a JSON body
    that breaks the schema: a missing or mistyped field, ``max_tokens`` outside ``[1,
    max_tokens_limit]``, a temperature outside ``[0, 2]``, ``n`` other than 1, an unknown parameter);
    500 (the generator failed). Every error is an OpenAI error object ``{"error": {"message",
    "type", "param", "code"}}``, so the ``openai`` client raises its matching exception
    (``BadRequestError``, ``NotFoundError``, ``UnprocessableEntityError`` ...).

    Args:
        generate: the model, as described above.
        model_name: the model's name (the ``model`` field of requests), without ``/``, ``?``, ``#`` or spaces.
        host: the address to listen on (default 127.0.0.1: this machine only); ``""`` is refused.
        port: the port (0: any free port).
        max_tokens_limit: the largest ``max_tokens`` accepted (and the default), in [1, 100000].
        max_body_bytes: the largest request body, in [1, 2**30] (default 1 MiB).
        read_timeout_s: how long a connection may stay silent while a request is read, in (0, 3600].
        api_key: if given, requests must carry ``Authorization: Bearer <api_key>``; by default any key
            (the client's ``api_key="not-needed"``) is accepted, as by a local vLLM or Ollama.
        count_tokens: ``count_tokens(messages)``, the prompt's length in tokens; if given, replies
            carry ``usage`` (prompt, completion and total tokens).
    """

    _thread_prefix = "chat"

    def __init__(self, generate: Callable[..., Iterable[str]], model_name: str, host: str = "127.0.0.1",
                 port: int = 0, *, max_tokens_limit: int = 256, max_body_bytes: int = _MAX_BODY,
                 read_timeout_s: float = 10.0, api_key: str | None = None,
                 count_tokens: Callable[[list[dict[str, str]]], int] | None = None) -> None:
        if not callable(generate):
            raise ValueError(f"expected generate to be a function, got {type(generate).__name__}")
        if not isinstance(model_name, str) or not model_name or any(c in model_name for c in "/ ?#"):
            raise ValueError(f"expected model_name to be a name without '/', spaces, '?' or '#', got {model_name!r}")
        if not isinstance(host, str):
            raise TypeError(f"expected host to be a str such as '127.0.0.1', got {type(host).__name__}")
        if not host.strip():
            raise ValueError("host='' would listen on every network interface, so any machine that can reach "
                             "this one could use the model: keep host='127.0.0.1' (the default)")
        if any(c in host for c in "/ []@?#"):
            raise ValueError(f"expected host to be an address or a name such as '127.0.0.1', got {host!r}")
        if not _is_int(port) or not 0 <= port <= 65535:
            raise ValueError(f"expected port to be an int in [0, 65535], got {port!r}")
        if not _is_int(max_tokens_limit) or not 1 <= max_tokens_limit <= 100_000:
            raise ValueError(f"expected max_tokens_limit to be an int in [1, 100000], got {max_tokens_limit!r}")
        if not _is_int(max_body_bytes) or not 1 <= max_body_bytes <= 1 << 30:
            raise ValueError(f"expected max_body_bytes to be an int in [1, 2**30], got {max_body_bytes!r}")
        if (isinstance(read_timeout_s, bool) or not isinstance(read_timeout_s, (int, float))
                or not 0 < read_timeout_s <= 3600):
            raise ValueError(f"expected read_timeout_s to be a number of seconds in (0, 3600], got {read_timeout_s!r}")
        if api_key is not None and (not isinstance(api_key, str) or not api_key):
            raise ValueError("expected api_key to be a non-empty string, or None to accept any key")
        if count_tokens is not None and not callable(count_tokens):
            raise ValueError(f"expected count_tokens to be a function or None, got {type(count_tokens).__name__}")
        self.generate, self.model_name, self.host, self.port = generate, model_name, host, port
        self.max_tokens_limit, self.max_body_bytes = max_tokens_limit, max_body_bytes
        self.read_timeout_s, self.api_key, self.count_tokens = float(read_timeout_s), api_key, count_tokens
        self.requests_served = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The API's base URL, ``http://127.0.0.1:PORT/v1`` (the ``base_url`` of an ``openai.OpenAI`` client)."""
        if self._server is None:
            raise RuntimeError("the server is not running: use it in a `with` block")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._server.server_address[1]}/v1"

    def _model_card(self) -> dict[str, Any]:
        return {"id": self.model_name, "object": "model", "created": 0, "owned_by": "course"}

    def _next_id(self) -> str:
        with self._lock:
            return f"chatcmpl-{next(self._ids):06d}"

    def _handler(self, port: int) -> type[BaseHTTPRequestHandler]:
        outer = self
        hosts = _host_forms(self.host, port)
        models_path, chat_path = "/v1/models", "/v1/chat/completions"

        class Handler(BaseHTTPRequestHandler):
            timeout = outer.read_timeout_s  # the socket's timeout: a silent client cannot hold a thread
            default_request_version = "HTTP/1.0"  # answer even a garbled request line with a status and headers

            def log_message(self, *args: Any) -> None:  # keep the notebook's output clean
                pass

            def _reply(self, code: int, body: Mapping[str, Any]) -> None:
                data = json.dumps(body, allow_nan=False).encode()
                if code >= 400:
                    self.close_connection = True  # an unread body must not be taken for the next request
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if code >= 400:
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)

            def _fail(self, err: _BadRequest) -> None:
                self._reply(err.code, _error_body(err.code, err.message, getattr(err, "param", None),
                                                  getattr(err, "error_code", None)))

            def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
                # http.server's own errors (a malformed request line, headers too long, a timeout) as JSON
                try:
                    text = message or explain or self.responses.get(code, ("error",))[0]
                    self._reply(code, _error_body(code, text))
                except OSError:
                    self.close_connection = True

            def _check(self) -> None:
                host = (self.headers.get("Host") or "").strip().lower()
                if host not in hosts:
                    raise _ApiError(400, f"the Host header {host!r:.80} does not name this server; "
                                         f"expected one of {sorted(hosts)}")
                if outer.api_key is not None:
                    sent = (self.headers.get("Authorization") or "").strip()
                    if not hmac.compare_digest(sent.encode(), f"Bearer {outer.api_key}".encode()):
                        raise _ApiError(401, "missing or wrong API key: send Authorization: Bearer <key>",
                                        error_code="invalid_api_key")

            def do_GET(self) -> None:
                try:
                    self._check()
                    if self.path == models_path:
                        return self._reply(200, {"object": "list", "data": [outer._model_card()]})
                    if self.path == f"{models_path}/{outer.model_name}":
                        return self._reply(200, outer._model_card())
                    if self.path == chat_path:
                        raise _ApiError(405, f"method GET is not allowed on {chat_path}; use POST")
                    if self.path.startswith(models_path + "/"):
                        raise _ApiError(404, f"the model {self.path[len(models_path) + 1:]!r:.80} does not exist; "
                                             f"this server has {outer.model_name!r}", "model", "model_not_found")
                    raise _ApiError(404, f"unknown path {self.path[:80]!r}; try GET {models_path} or "
                                         f"POST {chat_path}")
                except _BadRequest as err:
                    self._fail(err)

            def _refuse_method(self) -> None:
                self._fail(_ApiError(405, f"method {self.command} is not allowed; use GET {models_path} "
                                          f"or POST {chat_path}"))

            do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _refuse_method

            def do_POST(self) -> None:
                try:
                    self._check()
                    if self.path != chat_path:
                        raise _ApiError(404, f"unknown path {self.path[:80]!r}; try POST {chat_path}")
                    body = _read_json_request(self, outer.max_body_bytes, outer.read_timeout_s)
                    request = _parse_request(body, outer.model_name, outer.max_tokens_limit)
                except _BadRequest as err:
                    return self._fail(err)
                self._complete(request)

            def _start(self, request: dict[str, Any]) -> tuple[Iterator[str], str | None]:
                """Call the generator and take its first piece, so that its errors come before a 200."""
                pieces = iter(outer.generate(request["messages"], max_tokens=request["max_tokens"],
                                             temperature=request["temperature"], seed=request["seed"]))
                return pieces, _piece(next(pieces, None))

            def _usage(self, request: dict[str, Any], n: int) -> dict[str, int] | None:
                if outer.count_tokens is None:
                    return None
                prompt = int(outer.count_tokens(request["messages"]))
                return {"prompt_tokens": prompt, "completion_tokens": n, "total_tokens": prompt + n}

            def _complete(self, request: dict[str, Any]) -> None:
                try:
                    pieces, first = self._start(request)
                    if not request["stream"]:
                        text = [] if first is None else [first]
                        for piece in pieces:
                            text.append(_piece(piece))
                            if len(text) > request["max_tokens"]:
                                raise RuntimeError("the generator made more pieces than max_tokens")
                        usage = self._usage(request, len(text))
                except ChatRequestError as err:
                    return self._fail(_ApiError(400, err.message, err.param))
                except Exception as err:  # the model failed: say so, keep serving, show no traceback
                    return self._fail(_ApiError(500, f"the model failed ({type(err).__name__}); see the server's log"))
                reply_id, created = outer._next_id(), int(time.time())
                if not request["stream"]:
                    finish = "length" if len(text) == request["max_tokens"] else "stop"
                    answer = {"id": reply_id, "object": "chat.completion", "created": created,
                              "model": outer.model_name,
                              "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(text)},
                                           "logprobs": None, "finish_reason": finish}]}
                    if usage is not None:
                        answer["usage"] = usage
                    with outer._lock:
                        outer.requests_served += 1
                    return self._reply(200, answer)
                self._stream(request, pieces, first, reply_id, created)

            def _stream(self, request: dict[str, Any], pieces: Iterator[str], first: str | None,
                        reply_id: str, created: int) -> None:
                self.close_connection = True  # HTTP/1.0: the end of the stream is the end of the connection
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream; charset=utf-8")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()

                def event(delta: dict[str, Any] | None, finish: str | None = None, usage: Any = None) -> None:
                    chunk = {"id": reply_id, "object": "chat.completion.chunk", "created": created,
                             "model": outer.model_name,
                             "choices": [] if delta is None else
                             [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
                    if usage is not None:
                        chunk["usage"] = usage
                    self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                    self.wfile.flush()

                n = 0
                try:
                    event({"role": "assistant", "content": ""})
                    piece = first
                    while piece is not None:
                        n += 1
                        if n > request["max_tokens"]:
                            raise RuntimeError("the generator made more pieces than max_tokens")
                        event({"content": piece})
                        piece = _piece(next(pieces, None))
                    event({}, "length" if n == request["max_tokens"] else "stop")
                    if request["include_usage"]:
                        event(None, usage=self._usage(request, n))
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except OSError:  # the client hung up: stop generating for it
                    close = getattr(pieces, "close", None)
                    if close is not None:
                        close()
                    return
                except Exception as err:  # the model failed mid-stream: an error event, no [DONE]
                    error = _error_body(500, f"the model failed ({type(err).__name__}); see the server's log")
                    try:
                        self.wfile.write(b"data: " + json.dumps(error).encode() + b"\n\n")
                        self.wfile.flush()
                    except OSError:
                        pass
                    return
                with outer._lock:
                    outer.requests_served += 1

        return Handler



def _piece(piece: Any) -> str | None:
    """A generated piece checked to be text (``None`` passes: the end of the reply)."""
    if piece is None or isinstance(piece, str):
        return piece
    raise TypeError(f"the generator yielded {type(piece).__name__}, not text")
