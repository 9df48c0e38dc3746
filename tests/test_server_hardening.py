"""Hostile requests against deployment.PredictionServer, over real sockets on 127.0.0.1.

Every malformed request must get a JSON 4xx (never a dropped connection, an HTML page or invalid
JSON), and the server must keep answering good requests afterwards.
"""

import json
import math
import socket
import threading
import time

import numpy as np
import pytest

from course_lib import deployment
from sockets import exchange


def _double(batch):
    if batch.ndim != 2:
        raise ValueError(f"expected a batch of shape (n, d), got shape {batch.shape}")
    return batch * 2


def _raw(port, data, timeout=10.0, shut_write=False):
    """Send raw bytes to the server and return (status, parsed JSON body, raw headers)."""
    status, head, body = exchange(port, data, timeout, shut_write)
    return status, json.loads(body, parse_constant=lambda c: pytest.fail(f"reply is not strict JSON: {c}")), head


def _post(port, body, *, content_type="application/json", length=None, host=None, extra=b""):
    body = body if isinstance(body, bytes) else json.dumps(body).encode()
    lines = [b"POST /v1/models/m:predict HTTP/1.1", b"Host: " + (host or f"127.0.0.1:{port}").encode()]
    if content_type is not None:
        lines.append(b"Content-Type: " + content_type.encode())
    if length != "omit":
        lines.append(b"Content-Length: " + str(len(body) if length is None else length).encode())
    return b"\r\n".join(lines) + b"\r\n" + extra + b"\r\n" + body


def _ok(port):
    status, answer, _ = _raw(port, _post(port, {"instances": [[1.0]]}))
    assert (status, answer) == (200, {"predictions": [[2.0]]})


@pytest.fixture(scope="module")
def server():
    with deployment.PredictionServer(_double, "m", read_timeout_s=1.0, max_body_bytes=10_000) as s:
        s.port_ = s._server.server_address[1]
        yield s
    assert not s.running


@pytest.mark.parametrize("name, make, code, message", [
    ("no Content-Length", lambda p: _post(p, {"instances": [[1]]}, length="omit"), 411, "Content-Length"),
    ("chunked", lambda p: _post(p, b"", length="omit", extra=b"Transfer-Encoding: chunked\r\n"), 411, "chunked"),
    ("negative Content-Length", lambda p: _post(p, b"{}", length=-1), 400, "Content-Length"),
    ("non-numeric Content-Length", lambda p: _post(p, b"{}", length="ten"), 400, "Content-Length"),
    ("over the cap", lambda p: _post(p, b"", length=10_001), 413, "over 10000"),
    ("huge Content-Length", lambda p: _post(p, b"", length=10 ** 30), 413, "over"),
    ("text/plain (a cross-site form)", lambda p: _post(p, {"instances": [[1]]}, content_type="text/plain"), 415,
     "application/json"),
    ("no Content-Type", lambda p: _post(p, {"instances": [[1]]}, content_type=None), 415, "application/json"),
    ("invalid UTF-8", lambda p: _post(p, b'{"instances": [[1]]}\xff\xfe'), 400, "UTF-8"),
    ("invalid JSON", lambda p: _post(p, b"{oops"), 400, "not JSON"),
    ("deeply nested JSON", lambda p: _post(p, b"[" * 5000 + b"]" * 5000), 400, "nested too deeply"),
    ("NaN", lambda p: _post(p, b'{"instances": [[NaN]]}'), 400, "NaN"),
    ("Infinity", lambda p: _post(p, b'{"instances": [[-Infinity]]}'), 400, "Infinity"),
    ("null", lambda p: _post(p, b'{"instances": [[null]]}'), 400, "null"),
    ("a string number", lambda p: _post(p, b'{"instances": [["1.5"]]}'), 400, "only numbers"),
    ("a bool", lambda p: _post(p, b'{"instances": [[true]]}'), 400, "only numbers"),
    ("an object", lambda p: _post(p, b'{"instances": [{"x": 1}]}'), 400, "only numbers"),
    ("over float32", lambda p: _post(p, b'{"instances": [[1e39]]}'), 400, "float32"),
    ("ragged", lambda p: _post(p, b'{"instances": [[1], [2, 3]]}'), 400, "ValueError"),
    ("no instances", lambda p: _post(p, {"inputs": [[1]]}), 400, "instances"),
    ("a foreign Host (DNS rebinding)", lambda p: _post(p, {"instances": [[1]]}, host=f"evil.example:{p}"), 400, "Host"),
    ("a Host with another port", lambda p: _post(p, {"instances": [[1]]}, host="127.0.0.1:1"), 400, "Host"),
    ("GET with a foreign Host", lambda p: f"GET /v1/models/m HTTP/1.1\r\nHost: evil.example\r\n\r\n".encode(), 400,
     "Host"),
    ("no Host", lambda p: b"GET /v1/models/m HTTP/1.0\r\n\r\n", 400, "Host"),
    ("PUT", lambda p: _post(p, {"instances": [[1]]}).replace(b"POST", b"PUT", 1), 405, "not allowed"),
    ("garbage request line", lambda p: b"\x00\x01 nonsense\r\n\r\n", 400, ""),
    ("headers too long", lambda p: b"GET / HTTP/1.1\r\nX: " + b"a" * 70000 + b"\r\n\r\n", 431, ""),
])
def test_malformed_requests_get_a_json_4xx_and_the_server_keeps_serving(server, name, make, code, message):
    status, answer, head = _raw(server.port_, make(server.port_))
    assert status == code, (name, status, answer)
    assert b"application/json" in head and message in answer["error"], (name, answer)
    _ok(server.port_)


def test_localhost_forms_of_the_host_header_are_accepted(server):
    for host in (f"localhost:{server.port_}", f"LOCALHOST:{server.port_}", f"127.0.0.1:{server.port_}"):
        status, answer, _ = _raw(server.port_, _post(server.port_, {"instances": [[3]]}, host=host))
        assert (status, answer) == (200, {"predictions": [[6.0]]}), host


def test_content_type_parameters_are_accepted(server):
    status, _, _ = _raw(server.port_, _post(server.port_, {"instances": [[3]]},
                                            content_type="Application/JSON; charset=utf-8"))
    assert status == 200


def test_a_client_that_announces_more_body_than_it_sends_is_timed_out(server):
    start = time.perf_counter()
    status, answer, _ = _raw(server.port_, _post(server.port_, b'{"instances"', length=500))
    assert status == 408 and "did not arrive" in answer["error"]
    assert time.perf_counter() - start < 5  # read_timeout_s=1
    _ok(server.port_)


def test_a_body_shorter_than_announced_then_closed_is_a_400(server):
    status, answer, _ = _raw(server.port_, _post(server.port_, b'{"in', length=500), shut_write=True)
    assert status == 400 and "Content-Length said 500" in answer["error"]


def test_an_over_cap_body_is_not_read(server):
    # Announce 1 TB and send nothing: the answer comes at once, not after reading (or timing out).
    start = time.perf_counter()
    status, _, _ = _raw(server.port_, _post(server.port_, b"", length=10 ** 12))
    assert status == 413 and time.perf_counter() - start < 0.9


def test_non_finite_predictions_are_a_json_error_not_infinity():
    with deployment.PredictionServer(lambda b: b * np.float32(1e38), "m") as s:
        port = s._server.server_address[1]
        status, answer, _ = _raw(port, _post(port, {"instances": [[10.0]]}))
        assert status == 500 and "non-finite" in answer["error"]
        status, answer, _ = _raw(port, _post(port, {"instances": [[0.5]]}))
        assert status == 200 and math.isclose(answer["predictions"][0][0], 5e37, rel_tol=1e-6)


def test_non_numeric_predictions_are_a_json_error():
    with deployment.PredictionServer(lambda b: np.array([["a"]] * len(b)), "m") as s:
        port = s._server.server_address[1]
        status, answer, _ = _raw(port, _post(port, {"instances": [[1.0]]}))
        assert status == 500 and "not numbers" in answer["error"]


def test_burst_of_200_concurrent_clients_is_all_answered_in_bounded_time():
    n = 200
    results = [None] * n
    with deployment.PredictionServer(_double, "m") as s:
        port = s._server.server_address[1]
        barrier = threading.Barrier(n)

        def client(i):
            barrier.wait()
            try:
                results[i] = _raw(port, _post(port, {"instances": [[float(i)]]}), timeout=30)[:2]
            except Exception as err:  # recorded, and the assert below says which
                results[i] = err

        start = time.perf_counter()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        elapsed = time.perf_counter() - start
        assert s.requests_served == n
    failures = [(i, r) for i, r in enumerate(results) if r != (200, {"predictions": [[2.0 * i]]})]
    assert not failures, failures[:5]
    assert elapsed < 30, elapsed


def test_listen_backlog_is_sized_for_bursts():
    assert deployment._Server.request_queue_size >= 128


@pytest.mark.parametrize("kwargs, error, match", [
    ({"host": ""}, ValueError, "every network interface"),
    ({"host": "  "}, ValueError, "every network interface"),
    ({"host": None}, TypeError, "host"),
    ({"host": "a b"}, ValueError, "host"),
    ({"max_body_bytes": 0}, ValueError, "max_body_bytes"),
    ({"max_body_bytes": True}, ValueError, "max_body_bytes"),
    ({"read_timeout_s": float("nan")}, ValueError, "read_timeout_s"),
    ({"read_timeout_s": 0}, ValueError, "read_timeout_s"),
    ({"read_timeout_s": float("inf")}, ValueError, "read_timeout_s"),
])
def test_server_refuses_unsafe_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        deployment.PredictionServer(_double, "m", **kwargs)


def test_loopback_is_the_default():
    with deployment.PredictionServer(_double, "m") as s:
        assert s._server.server_address[0] == "127.0.0.1"
