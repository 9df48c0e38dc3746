"""chat_server.ChatServer over real sockets on 127.0.0.1: the OpenAI chat-completions API, streamed and
not, called with raw HTTP and with the official ``openai`` client; every malformed request gets an
OpenAI-style JSON error with the right status and the server keeps serving; concurrent clients.
"""

import json
import socket
import threading
import time

import numpy as np
import pytest

from course_lib import chat_server
from sockets import exchange

MODEL = "toy"
WORDS = ["the", "cat", "sees", "a", "dog", "near", "the", "tree", "."]


def _generate(messages, *, max_tokens, temperature, seed):
    """A deterministic toy model: greedy repeats WORDS; sampling draws them with a seeded generator."""
    if messages[-1]["role"] != "user":
        raise chat_server.ChatRequestError("the last message must be the user's", "messages")
    if messages[-1]["content"] == "boom":
        raise RuntimeError("secret internal detail /home/x")
    rng = np.random.default_rng(seed)
    for i in range(max_tokens):
        word = WORDS[i % len(WORDS)] if temperature == 0 else WORDS[int(rng.integers(len(WORDS)))]
        if messages[-1]["content"] == "fail midway" and i == 2:
            raise RuntimeError("secret internal detail")
        yield word if i == 0 else " " + word
        if word == "." and temperature == 0:
            return


def _direct(content, max_tokens=16, temperature=0.0, seed=None):
    return "".join(_generate([{"role": "user", "content": content}], max_tokens=max_tokens,
                             temperature=temperature, seed=seed))


def _raw(port, data, timeout=10.0):
    """Send raw bytes; return (status, headers bytes, body bytes)."""
    return exchange(port, data, timeout)


def _request(port, method="POST", path="/v1/chat/completions", body=None, *, content_type="application/json",
             length=None, host=None, extra=b""):
    if body is None:
        body = b""
    elif not isinstance(body, bytes):
        body = json.dumps(body).encode()
    lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: " + (host or f"127.0.0.1:{port}").encode()]
    if content_type is not None:
        lines.append(b"Content-Type: " + content_type.encode())
    if length != "omit":
        lines.append(b"Content-Length: " + str(len(body) if length is None else length).encode())
    return b"\r\n".join(lines) + b"\r\n" + extra + b"\r\n" + body


def _json(port, data):
    status, head, body = _raw(port, data)
    assert b"application/json" in head
    return status, json.loads(body, parse_constant=lambda c: pytest.fail(f"reply is not strict JSON: {c}"))


def _chat(**fields):
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hello"}], "temperature": 0}
    body.update(fields)
    return {k: v for k, v in body.items() if v is not _DROP}


_DROP = object()


def _ok(port):
    status, answer = _json(port, _request(port, body=_chat(max_tokens=3)))
    assert status == 200 and answer["choices"][0]["message"]["content"] == "the cat sees"


@pytest.fixture(scope="module")
def server():
    with chat_server.ChatServer(_generate, MODEL, max_tokens_limit=16, max_body_bytes=10_000, read_timeout_s=1.0,
                                count_tokens=lambda messages: len(messages[-1]["content"].split())) as s:
        s.port_ = s._server.server_address[1]
        yield s
    assert not s.running


# --- valid requests ----------------------------------------------------------------------------

def test_models_are_listed_and_described(server):
    status, answer = _json(server.port_, _request(server.port_, "GET", "/v1/models", content_type=None, length="omit"))
    assert status == 200 and answer == {"object": "list", "data": [
        {"id": MODEL, "object": "model", "created": 0, "owned_by": "course"}]}
    status, answer = _json(server.port_, _request(server.port_, "GET", f"/v1/models/{MODEL}", content_type=None,
                                                  length="omit"))
    assert status == 200 and answer["id"] == MODEL
    status, answer = _json(server.port_, _request(server.port_, "GET", "/v1/models/other", content_type=None,
                                                  length="omit"))
    assert status == 404 and answer["error"]["code"] == "model_not_found"


def test_a_completion_has_the_openai_shape(server):
    status, answer = _json(server.port_, _request(server.port_, body=_chat()))
    assert status == 200
    assert answer["object"] == "chat.completion" and answer["model"] == MODEL and answer["id"].startswith("chatcmpl-")
    assert isinstance(answer["created"], int)
    choice = answer["choices"][0]
    assert choice["message"] == {"role": "assistant", "content": "the cat sees a dog near the tree ."}
    assert choice["finish_reason"] == "stop" and choice["index"] == 0
    assert answer["usage"] == {"prompt_tokens": 1, "completion_tokens": 9, "total_tokens": 10}


def test_max_tokens_cuts_the_reply_with_finish_reason_length(server):
    for key in ("max_tokens", "max_completion_tokens"):
        status, answer = _json(server.port_, _request(server.port_, body=_chat(**{key: 2})))
        assert status == 200 and answer["choices"][0]["message"]["content"] == "the cat"
        assert answer["choices"][0]["finish_reason"] == "length"


def test_text_parts_and_system_messages_are_accepted(server):
    messages = [{"role": "system", "content": "be brief"},
                {"role": "user", "content": [{"type": "text", "text": "hel"}, {"type": "text", "text": "lo"}]}]
    status, answer = _json(server.port_, _request(server.port_, body=_chat(messages=messages, max_tokens=1)))
    assert status == 200 and answer["choices"][0]["message"]["content"] == "the"


def _stream(port, body):
    status, head, raw = _raw(port, _request(port, body=body))
    assert status == 200 and b"text/event-stream" in head
    return chat_server.sse_events(raw.decode())


def test_a_stream_is_server_sent_chunks_ending_in_done(server):
    events = _stream(server.port_, _chat(stream=True))
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" and c["id"] == chunks[0]["id"] for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[-1]["choices"][0]["delta"] == {} and chunks[-1]["choices"][0]["finish_reason"] == "stop"
    pieces = [c["choices"][0]["delta"]["content"] for c in chunks[1:-1]]
    assert pieces == ["the", " cat", " sees", " a", " dog", " near", " the", " tree", " ."]
    assert "".join(pieces) == _direct("hello")


def test_streamed_equals_non_streamed_equals_direct_also_when_sampling(server):
    for seed in (0, 1, 2):
        body = _chat(temperature=1.0, seed=seed, max_tokens=6)
        _, answer = _json(server.port_, _request(server.port_, body=body))
        events = _stream(server.port_, {**body, "stream": True})
        streamed = "".join(json.loads(e)["choices"][0]["delta"].get("content") or "" for e in events[:-1])
        assert answer["choices"][0]["message"]["content"] == streamed == _direct("hello", 6, 1.0, seed)
    replies = {_direct("hello", 6, 1.0, seed) for seed in range(4)}
    assert len(replies) > 1  # negative control: the seed is used


def test_include_usage_adds_a_chunk_without_choices(server):
    events = _stream(server.port_, _chat(stream=True, max_tokens=2, stream_options={"include_usage": True}))
    usage = json.loads(events[-2])
    assert usage["choices"] == [] and usage["usage"] == {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    assert json.loads(events[-3])["choices"][0]["finish_reason"] == "length"


def test_sse_events_follows_the_event_stream_rules():
    text = ": comment\r\ndata: a\r\n\r\ndata:b\ndata:  c\n\nevent: x\nid: 3\ndata: [DONE]\n\n"
    assert chat_server.sse_events(text) == ["a", "b\n c", "[DONE]"]
    assert chat_server.sse_events("data: tail") == ["tail"]
    assert chat_server.sse_events("") == []
    with pytest.raises(TypeError, match="text"):
        chat_server.sse_events(b"data: x\n\n")


# --- malformed requests ------------------------------------------------------------------------

MESSAGES = [{"role": "user", "content": "hello"}]


@pytest.mark.parametrize("name, make, code, message", [
    ("no Content-Length", lambda p: _request(p, body=_chat(), length="omit"), 411, "Content-Length"),
    ("chunked", lambda p: _request(p, length="omit", extra=b"Transfer-Encoding: chunked\r\n"), 411, "chunked"),
    ("over the body cap", lambda p: _request(p, length=10_001), 413, "over 10000"),
    ("text/plain (a cross-site form)", lambda p: _request(p, body=_chat(), content_type="text/plain"), 415,
     "application/json"),
    ("invalid UTF-8", lambda p: _request(p, body=b'{"model": "toy"}\xff'), 400, "UTF-8"),
    ("invalid JSON", lambda p: _request(p, body=b"{oops"), 400, "not JSON"),
    ("NaN", lambda p: _request(p, body=b'{"model": "toy", "temperature": NaN}'), 400, "NaN"),
    ("deeply nested", lambda p: _request(p, body=b"[" * 5000 + b"]" * 5000), 400, "nested too deeply"),
    ("a JSON list", lambda p: _request(p, body=[1, 2]), 400, "JSON object"),
    ("a foreign Host", lambda p: _request(p, body=_chat(), host=f"evil.example:{p}"), 400, "Host"),
    ("no model", lambda p: _request(p, body=_chat(model=_DROP)), 422, "'model'"),
    ("a model that is a number", lambda p: _request(p, body=_chat(model=3)), 422, "'model'"),
    ("an unknown model", lambda p: _request(p, body=_chat(model="gpt-4o")), 404, "does not exist"),
    ("no messages", lambda p: _request(p, body=_chat(messages=_DROP)), 422, "'messages'"),
    ("empty messages", lambda p: _request(p, body=_chat(messages=[])), 422, "'messages'"),
    ("a message that is a string", lambda p: _request(p, body=_chat(messages=["hi"])), 422, "expected an object"),
    ("an unknown role", lambda p: _request(p, body=_chat(messages=[{"role": "robot", "content": "x"}])), 422,
     "role"),
    ("content that is a number", lambda p: _request(p, body=_chat(messages=[{"role": "user", "content": 1}])), 422,
     "content"),
    ("an image part", lambda p: _request(p, body=_chat(messages=[{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "x"}}]}])), 422, "only text parts"),
    ("an unknown message field", lambda p: _request(p, body=_chat(messages=[{"role": "user", "content": "x",
                                                                               "tool_calls": []}])), 422, "tool_calls"),
    ("max_tokens 0", lambda p: _request(p, body=_chat(max_tokens=0)), 422, "[1, 16]"),
    ("max_tokens over the limit", lambda p: _request(p, body=_chat(max_tokens=17)), 422, "[1, 16]"),
    ("max_tokens a float", lambda p: _request(p, body=_chat(max_tokens=2.0)), 422, "max_tokens"),
    ("max_tokens a bool", lambda p: _request(p, body=_chat(max_tokens=True)), 422, "max_tokens"),
    ("max_tokens and max_completion_tokens disagree",
     lambda p: _request(p, body=_chat(max_tokens=2, max_completion_tokens=3)), 422, "disagree"),
    ("temperature 2.5", lambda p: _request(p, body=_chat(temperature=2.5)), 422, "temperature"),
    ("temperature negative", lambda p: _request(p, body=_chat(temperature=-0.1)), 422, "temperature"),
    ("temperature a string", lambda p: _request(p, body=_chat(temperature="0")), 422, "temperature"),
    ("seed a float", lambda p: _request(p, body=_chat(seed=1.5)), 422, "seed"),
    ("n = 2", lambda p: _request(p, body=_chat(n=2)), 422, "n must be 1"),
    ("stream a string", lambda p: _request(p, body=_chat(stream="yes")), 422, "stream"),
    ("stream_options without stream", lambda p: _request(p, body=_chat(stream_options={"include_usage": True})), 422,
     "stream_options"),
    ("an unknown parameter", lambda p: _request(p, body=_chat(tools=[])), 422, "unsupported parameter 'tools'"),
    ("the generator refuses", lambda p: _request(p, body=_chat(messages=MESSAGES + [
        {"role": "assistant", "content": "x"}])), 400, "the last message must be the user's"),
    ("an unknown path", lambda p: _request(p, path="/v1/completions", body=_chat()), 404, "unknown path"),
    ("GET the chat path", lambda p: _request(p, "GET", content_type=None, length="omit"), 405, "use POST"),
    ("PUT", lambda p: _request(p, "PUT", body=_chat()), 405, "not allowed"),
    ("DELETE a model", lambda p: _request(p, "DELETE", f"/v1/models/{MODEL}", length="omit"), 405, "not allowed"),
    ("garbage request line", lambda p: b"\x00\x01 nonsense\r\n\r\n", 400, ""),
    ("headers too long", lambda p: b"GET / HTTP/1.1\r\nX: " + b"a" * 70000 + b"\r\n\r\n", 431, ""),
])
def test_malformed_requests_get_an_openai_error_and_the_server_keeps_serving(server, name, make, code, message):
    status, answer = _json(server.port_, make(server.port_))
    assert status == code, (name, status, answer)
    error = answer["error"]
    assert set(error) == {"message", "type", "param", "code"}, error
    assert error["type"] == "invalid_request_error" and message in error["message"], (name, error)
    assert "Traceback" not in error["message"]
    _ok(server.port_)


def test_a_failing_model_is_a_500_that_names_no_detail(server):
    status, answer = _json(server.port_, _request(server.port_, body=_chat(messages=[{"role": "user",
                                                                                      "content": "boom"}])))
    assert status == 500 and answer["error"]["type"] == "server_error"
    assert "RuntimeError" in answer["error"]["message"] and "secret" not in json.dumps(answer)
    _ok(server.port_)


def test_a_model_failing_mid_stream_sends_an_error_event_and_no_done(server):
    events = _stream(server.port_, _chat(messages=[{"role": "user", "content": "fail midway"}], stream=True))
    assert events[-1] != "[DONE]"
    assert json.loads(events[-1])["error"]["type"] == "server_error" and "secret" not in events[-1]
    assert [json.loads(e)["choices"][0]["delta"].get("content") for e in events[1:-1]] == ["the", " cat"]
    _ok(server.port_)


def test_a_silent_client_is_timed_out(server):
    start = time.perf_counter()
    status, answer = _json(server.port_, _request(server.port_, body=b'{"model"', length=500))
    assert status == 408 and "did not arrive" in answer["error"]["message"]
    assert time.perf_counter() - start < 5  # read_timeout_s=1
    _ok(server.port_)


def test_a_client_that_hangs_up_mid_stream_does_not_stop_the_server():
    started, closed = threading.Event(), threading.Event()

    def slow(messages, *, max_tokens, temperature, seed):
        try:
            for i in range(max_tokens):
                started.set()
                time.sleep(0.05)
                yield f" {i}"
        finally:
            closed.set()  # the server closed the generator when the client left

    with chat_server.ChatServer(slow, MODEL, max_tokens_limit=1000) as s:
        port = s._server.server_address[1]
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(_request(port, body=_chat(stream=True, max_tokens=1000)))
        assert started.wait(10)
        sock.recv(100)
        sock.close()
        assert closed.wait(10), "the generator kept running for a client that left"
        status, answer = _json(port, _request(port, body=_chat(max_tokens=2)))
        assert status == 200 and answer["choices"][0]["message"]["content"] == " 0 1"


def test_an_api_key_is_required_when_set():
    with chat_server.ChatServer(_generate, MODEL, api_key="sesame") as s:
        port = s._server.server_address[1]
        status, answer = _json(port, _request(port, body=_chat()))
        assert status == 401 and answer["error"]["code"] == "invalid_api_key"
        status, answer = _json(port, _request(port, body=_chat(), extra=b"Authorization: Bearer wrong\r\n"))
        assert status == 401
        status, answer = _json(port, _request(port, body=_chat(), extra=b"Authorization: Bearer sesame\r\n"))
        assert status == 200


def test_a_generator_yielding_non_text_or_too_much_is_a_500():
    def numbers(messages, **_):
        yield 1

    def greedy(messages, *, max_tokens, **_):
        for _ in range(max_tokens + 1):
            yield "x"

    for generate in (numbers, greedy):
        with chat_server.ChatServer(generate, MODEL, max_tokens_limit=4) as s:
            port = s._server.server_address[1]
            status, answer = _json(port, _request(port, body=_chat()))
            assert status == 500, generate.__name__


# --- concurrency, the official client, shutdown, arguments -------------------------------------

def test_concurrent_clients_each_get_their_own_reply():
    n = 40
    results = [None] * n
    with chat_server.ChatServer(_generate, MODEL, max_tokens_limit=16) as s:
        port = s._server.server_address[1]
        barrier = threading.Barrier(n)

        def client(i):
            barrier.wait()
            try:
                body = _chat(temperature=1.0, seed=i, max_tokens=5, stream=bool(i % 2))
                status, head, raw = _raw(port, _request(port, body=body), timeout=30)
                if i % 2:
                    events = chat_server.sse_events(raw.decode())
                    text = "".join(json.loads(e)["choices"][0]["delta"].get("content") or "" for e in events[:-1])
                else:
                    text = json.loads(raw)["choices"][0]["message"]["content"]
                results[i] = (status, text)
            except Exception as err:  # recorded, and the assert below says which
                results[i] = err

        threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert s.requests_served == n
    failures = [(i, r) for i, r in enumerate(results) if r != (200, _direct("hello", 5, 1.0, i))]
    assert not failures, failures[:5]


def test_the_official_openai_client_works_streaming_included():
    openai = pytest.importorskip("openai")
    with chat_server.ChatServer(_generate, MODEL, max_tokens_limit=16, count_tokens=lambda m: 1) as s:
        client = openai.OpenAI(base_url=s.url, api_key="not-needed", max_retries=0, timeout=30)
        assert [m.id for m in client.models.list()] == [MODEL]
        answer = client.chat.completions.create(model=MODEL, messages=MESSAGES, temperature=0, max_tokens=4)
        assert answer.choices[0].message.content == "the cat sees a" and answer.choices[0].finish_reason == "length"
        assert answer.usage.completion_tokens == 4
        stream = client.chat.completions.create(model=MODEL, messages=MESSAGES, temperature=0, stream=True)
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        assert text == _direct("hello")
        for request, error in [(dict(model="nope"), openai.NotFoundError),
                               (dict(max_tokens=0), openai.UnprocessableEntityError),
                               (dict(messages=MESSAGES + [{"role": "assistant", "content": "x"}]),
                                openai.BadRequestError)]:
            with pytest.raises(error):
                client.chat.completions.create(**{"model": MODEL, "messages": MESSAGES, **request})
        with pytest.raises(openai.APIError, match="RuntimeError"):
            list(client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "fail midway"}],
                                                stream=True))
        client.close()


def test_the_server_stops_after_an_error_in_the_block():
    with pytest.raises(KeyError):
        with chat_server.ChatServer(_generate, MODEL) as s:
            port = s._server.server_address[1]
            raise KeyError("boom")
    assert not s.running
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    with pytest.raises(RuntimeError, match="with"):
        s.url


def test_loopback_is_the_default():
    with chat_server.ChatServer(_generate, MODEL) as s:
        assert s._server.server_address[0] == "127.0.0.1" and s.url.startswith("http://127.0.0.1:")
        assert s.url.endswith("/v1")


@pytest.mark.parametrize("kwargs, error, match", [
    ({"generate": None}, ValueError, "generate"),
    ({"model_name": "a/b"}, ValueError, "model_name"),
    ({"model_name": ""}, ValueError, "model_name"),
    ({"host": ""}, ValueError, "every network interface"),
    ({"host": None}, TypeError, "host"),
    ({"port": -1}, ValueError, "port"),
    ({"max_tokens_limit": 0}, ValueError, "max_tokens_limit"),
    ({"max_tokens_limit": True}, ValueError, "max_tokens_limit"),
    ({"max_body_bytes": 0}, ValueError, "max_body_bytes"),
    ({"read_timeout_s": float("nan")}, ValueError, "read_timeout_s"),
    ({"read_timeout_s": 0}, ValueError, "read_timeout_s"),
    ({"api_key": ""}, ValueError, "api_key"),
    ({"count_tokens": 3}, ValueError, "count_tokens"),
])
def test_server_refuses_unsafe_arguments(kwargs, error, match):
    args = {"generate": _generate, "model_name": MODEL, **kwargs}
    with pytest.raises(error, match=match):
        chat_server.ChatServer(args.pop("generate"), args.pop("model_name"), **args)
