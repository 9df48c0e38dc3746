"""Raw HTTP over a socket, for the servers' hardening tests (test_server_hardening, test_chat_server)."""

import socket


def exchange(port, data, timeout=10.0, shut_write=False):
    """Send raw bytes to 127.0.0.1:port, read until the server closes; return (status, head, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        if shut_write:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    reply = b"".join(chunks)
    assert reply, "the server closed the connection without an answer"
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), head, body
