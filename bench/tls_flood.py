#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# tls_flood.py: the handshake-flood attacker of scripts/bench (hardening.md
# 2.5): new TLS connections at a steady rate, each a full handshake (no
# session reuse, certificate not checked) and then closed, for a bounded
# time. Prints one line: "attempted N handshakes M failed F seconds S".
#
#   tls_flood.py --port PORT [--rate 300] [--seconds 12] [--threads 8]
import argparse
import socket
import ssl
import threading
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--rate", type=float, default=300)
    ap.add_argument("--seconds", type=float, default=12)
    ap.add_argument("--threads", type=int, default=8)
    a = ap.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    start = time.monotonic()
    end = start + a.seconds
    lock = threading.Lock()
    counts = {"attempted": 0, "handshakes": 0, "failed": 0}
    interval = a.threads / a.rate     # each thread's share of the schedule

    def worker(k):
        nxt = start + k * (1.0 / a.rate)
        while True:
            now = time.monotonic()
            if now >= end:
                return
            if now < nxt:
                time.sleep(nxt - now)
            nxt += interval
            ok = False
            try:
                with socket.create_connection(("127.0.0.1", a.port), timeout=5) as raw:
                    with ctx.wrap_socket(raw, server_hostname="bench.upstream"):
                        ok = True
            except (OSError, ssl.SSLError):
                pass
            with lock:
                counts["attempted"] += 1
                counts["handshakes" if ok else "failed"] += 1

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(a.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(a.seconds + 10)
    took = time.monotonic() - start
    print(f"attempted {counts['attempted']} handshakes {counts['handshakes']} "
          f"failed {counts['failed']} seconds {took:.1f}", flush=True)


if __name__ == "__main__":
    main()
