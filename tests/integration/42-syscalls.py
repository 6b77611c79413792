#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 42-syscalls: a loaded meshgate makes its I/O through io_uring only.
# strace -f -c follows every thread (workers, control, admin) while wrk
# drives an HTTP and a TCP listener, a SIGHUP reloads the configuration and
# the admin and Prometheus pages are scraped. No epoll, poll or select may
# appear; io_uring_enter must. (How many io_uring_enter calls a request
# costs depends on the load: a proxy waiting on a slow upstream enters the
# kernel for each event, a busy one batches; it is noted, not checked, and
# scripts/bench measures the loaded case.)

import re
import subprocess
import time

import mg

HOST = "sys.example"
# every readiness-polling call of Linux: none may appear
POLLERS = {"epoll_wait", "epoll_pwait", "epoll_pwait2", "epoll_ctl", "epoll_create",
           "epoll_create1", "poll", "ppoll", "select", "_newselect", "pselect6"}


def parse_strace_summary(text):
    """{syscall: calls} from strace -c's table ("% time seconds usecs/call calls [errors] syscall")."""
    calls = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) < 5 or not re.fullmatch(r"[\d.]+", f[0]) or f[-1] == "total":
            continue
        if re.fullmatch(r"\d+", f[3]):
            calls[f[-1]] = int(f[3])
    return calls


def check_parser():
    sample = """% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 99.10    3.524243         148     23672        39 io_uring_enter
  0.90    0.000100          10        10           epoll_wait
------ ----------- ----------- --------- --------- ----------------
100.00    3.524343         148     23682        39 total
"""
    got = parse_strace_summary(sample)
    mg.check_eq(got, {"io_uring_enter": 23672, "epoll_wait": 10},
                "the strace -c parser reads calls with and without errors, not the total")
    mg.check_eq(parse_strace_summary("strace: attach: ptrace(PTRACE_SEIZE, 1): Operation not permitted\n"),
                {}, "the strace -c parser reads nothing from an error")


def test():
    mg.need("strace", "wrk")
    check_parser()
    a = mg.Upstream("a")
    m = mg.Mesh(yaml=[mg.service_entry("a", HOST, [a.endpoint])],
                listeners={"out": {"protocol": "http", "role": "outbound"},
                           "raw": {"protocol": "tcp", "destination": f"127.0.0.1:{a.port}"}},
                ini={"telemetry": {"access_log": ""}}).start()
    tcp_port = m.listeners["raw"]["port"]
    http = mg.Background(mg.wrk, f"http://127.0.0.1:{m.port}/", 8, 16, 1, [("Host", HOST)])
    raw = mg.Background(mg.wrk, f"http://127.0.0.1:{tcp_port}/", 8, 4, 1, [("Host", HOST)])
    time.sleep(1.5)
    before = m.stat("downstream_rq_total", 0)
    out = m.dir / "strace.txt"
    tracer = subprocess.Popen(["strace", "-f", "-c", "-o", str(out), "-p", str(m.pid)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.5)  # attached to every thread before the work starts
    v1 = m.config_version()
    m.write_yaml("20-more.yaml", [mg.service_entry("b", "b.example", [a.endpoint])])
    m.hup()
    v2 = mg.wait_for(lambda: (v := m.config_version()) != v1 and v, 10)
    mg.check(v2, "the SIGHUP reload was applied while traced", (v1, v2))
    for _ in range(3):
        mg.check(len(m.metrics(port=m.prom_port)) > 0, "Prometheus answers while traced")
        mg.check_eq(m.admin("/clusters")[0], 200, "the admin port answers while traced")
        time.sleep(0.3)
    tracer.send_signal(2)  # SIGINT: detach and write the summary
    try:
        _, err = tracer.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        tracer.kill()
        _, err = tracer.communicate()
    after = m.stat("downstream_rq_total", 0)
    http.join(40)
    raw.join(40)
    err = err.decode(errors="replace")
    if "Operation not permitted" in err:
        mg.skip(f"ptrace is not permitted here: {err.strip()[:200]}")
    text = out.read_text() if out.exists() else ""
    calls = parse_strace_summary(text)
    mg.note(f"strace -f -c over {after - before} HTTP requests: {calls}")
    mg.check(calls.get("io_uring_enter", 0) > 0, "io_uring_enter is in the trace", text[-400:])
    used = sorted(POLLERS & set(calls))
    mg.check_eq(used, [], "no epoll, poll or select call in any thread")
    for name, bg in (("HTTP", http), ("TCP", raw)):
        res = bg.result
        if mg.check(res is not None, f"wrk ran on the {name} listener", bg.error):
            mg.check(res.requests > 100 and res.non2xx == 0 and res.socket_errors == 0,
                     f"wrk on the {name} listener: answers, all 2xx, no socket error",
                     (res.requests, res.non2xx, res.socket_errors))
    served = after - before
    mg.check(served > 100, "requests were served while traced", served)
    if served > 0:
        mg.note(f"io_uring_enter per HTTP request while traced: "
                f"{calls.get('io_uring_enter', 0) / served:.2f} (TCP listener traffic included)")
    m.stop()


mg.run(test)
