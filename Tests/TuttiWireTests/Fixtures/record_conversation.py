#!/usr/bin/env python3
"""Loopback TCP recording proxy for capturing a Snapcast v2 conversation.

Listens on 127.0.0.1:LISTEN_PORT, accepts one connection, connects to
127.0.0.1:UPSTREAM_PORT, and relays bytes in both directions until either side
closes (or --duration seconds pass). Every byte the client sends is appended to
OUT_PREFIX + "client-to-server.bin", every byte the server sends to
OUT_PREFIX + "server-to-client.bin".

Usage:
    record_conversation.py LISTEN_PORT UPSTREAM_PORT OUT_PREFIX [--duration S]

Standard library only.
"""
import argparse
import selectors
import socket
import sys
import time


def relay(client: socket.socket, upstream: socket.socket, c2s_path: str, s2c_path: str,
          deadline: float) -> None:
    sel = selectors.DefaultSelector()
    sel.register(client, selectors.EVENT_READ, (upstream, c2s_path))
    sel.register(upstream, selectors.EVENT_READ, (client, s2c_path))
    files = {c2s_path: open(c2s_path, "wb"), s2c_path: open(s2c_path, "wb")}
    try:
        open_sides = 2
        while open_sides and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=0.05):
                src = key.fileobj
                dst, path = key.data
                try:
                    data = src.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(src)
                    open_sides -= 1
                    try:
                        dst.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    continue
                files[path].write(data)
                files[path].flush()
                dst.sendall(data)
    finally:
        for f in files.values():
            f.close()
        sel.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("listen_port", type=int)
    ap.add_argument("upstream_port", type=int)
    ap.add_argument("out_prefix")
    ap.add_argument("--duration", type=float, default=30.0,
                    help="stop relaying after this many seconds (default 30)")
    args = ap.parse_args()

    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", args.listen_port))
    srv.listen(1)
    print(f"listening on 127.0.0.1:{args.listen_port}", file=sys.stderr, flush=True)
    client, _ = srv.accept()
    srv.close()
    deadline = time.monotonic() + args.duration
    upstream = socket.create_connection(("127.0.0.1", args.upstream_port))
    for s in (client, upstream):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        relay(client, upstream,
              args.out_prefix + "client-to-server.bin",
              args.out_prefix + "server-to-client.bin",
              deadline)
    finally:
        client.close()
        upstream.close()
    print("done", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
