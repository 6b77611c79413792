#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# 18-metrics-admin: the admin API (/ready, /config_dump, /clusters, /stats,
# /stats/prometheus), the health and Prometheus ports, Istio's request
# metrics (istio_requests_total with the 25 standard labels, the duration
# histogram, request/response bytes) counting exactly what was sent, and the
# Envoy-format access log.

import json
import re

import mg

HOST = "ratings.example"
REQUEST_ID = "mg-access-log-123"


def mine(s):
    """Series about our service (Istio puts the host in destination_service*)."""
    return HOST in s.labels.values() or s.labels.get("destination_service_name") == "ratings-se"


def check_admin(m):
    st, body = m.admin("/ready")
    mg.check(st == 200 and body.strip() == b"LIVE", "admin /ready: 200 LIVE", (st, body[:50]))
    st, body = m.admin("/config_dump")
    try:
        dump = json.loads(body)
    except ValueError:
        dump = None
    mg.check(st == 200 and isinstance(dump, dict) and "version" in dump,
             "admin /config_dump: JSON with a version", (st, body[:100]))
    st, body = m.admin("/clusters")
    mg.check(st == 200 and HOST.encode() in body, "admin /clusters lists the ServiceEntry host", (st, body[:200]))
    st, body = m.admin("/stats")
    lines = body.decode(errors="replace").splitlines()
    mg.check(st == 200 and any(re.fullmatch(r"[\w.:\-]+: \d+", ln) for ln in lines),
             "admin /stats: 'name: value' lines", (st, lines[:3]))
    st, _ = m.admin("/no/such/admin/path")
    mg.check(st == 404, "admin: unknown path is 404", st)
    st, body = mg.simple_get(m.health_port, "/healthz/ready")
    mg.check(st == 200, "health port /healthz/ready: 200", (st, body[:50]))
    for label, port in (("admin", m.admin_port), ("prometheus port", m.prom_port)):
        st, body = mg.simple_get(port, "/stats/prometheus")
        try:
            samples = mg.parse_prometheus(body.decode())
            err = None
        except ValueError as e:
            samples, err = [], e
        mg.check(st == 200 and err is None and samples, f"{label} /stats/prometheus: valid exposition",
                 (st, err))


def check_request_metrics(m):
    before = m.metrics()
    with mg.Client(m.port) as c:
        ok = [c.get(f"/api/{i}", HOST, [("X-Request-Id", REQUEST_ID)] if i == 0 else []).status
              for i in range(7)]
        nr = [c.get("/nothing", HOST).status for _ in range(3)]
    mg.check(ok == [200] * 7 and nr == [404] * 3, "7 routed requests (200) and 3 unrouted (404)", (ok, nr))

    def counted():
        after = m.metrics()
        n200 = mg.metric_sum(after, "istio_requests_total", response_code="200") - \
            mg.metric_sum(before, "istio_requests_total", response_code="200")
        n404 = mg.metric_sum(after, "istio_requests_total", response_code="404", response_flags="NR") - \
            mg.metric_sum(before, "istio_requests_total", response_code="404", response_flags="NR")
        return (after, n200, n404) if n200 >= 7 and n404 >= 3 else None
    got = mg.wait_for(counted, 5)
    after = got[0] if got else m.metrics()
    mg.check(got is not None and got[1:] == (7, 3),
             "istio_requests_total counts 7 x 200 and 3 x 404 NR", got and got[1:])

    series = mg.select(after, "istio_requests_total", response_code="200")
    ours = [s for s in series if mine(s)]
    mg.check(ours, "the 200 series names the destination service", [s.labels for s in series][:2])
    if not ours:
        return
    labels = ours[0].labels
    mg.check(all(set(s.labels) == set(mg.ISTIO_LABELS) for s in mg.select(after, "istio_requests_total")),
             "every istio_requests_total series has exactly Istio's 25 labels",
             sorted(set(labels) ^ set(mg.ISTIO_LABELS)))
    mg.check(labels.get("reporter") in ("source", "destination"), "reporter label", labels.get("reporter"))
    mg.check(labels.get("request_protocol") == "http", "request_protocol=http", labels.get("request_protocol"))
    mg.check(labels.get("response_flags") == "-", "response_flags=- on success", labels.get("response_flags"))
    mg.check(labels.get("source_app") == "meshgate" and labels.get("source_version") == "v1",
             "source_app/source_version come from [appliance] labels",
             (labels.get("source_app"), labels.get("source_version")))
    mg.check(labels.get("source_workload_namespace") == "default", "source_workload_namespace=default",
             labels.get("source_workload_namespace"))
    mg.note(f"destination labels: service={labels.get('destination_service')} "
            f"name={labels.get('destination_service_name')} "
            f"namespace={labels.get('destination_service_namespace')}")
    check_histograms(before, after, labels)
    text = mg.simple_get(m.admin_port, "/stats/prometheus")[1].decode()
    mg.check("# TYPE istio_requests_total counter" in text, "# TYPE istio_requests_total counter")
    mg.check("# TYPE istio_request_duration_milliseconds histogram" in text,
             "# TYPE istio_request_duration_milliseconds histogram")
    mg.check(any(s.name.startswith("meshgate_") for s in after), "meshgate_* counters are exposed")


def check_histograms(before, after, labels):
    want = dict(labels)
    for name in ("istio_request_duration_milliseconds", "istio_request_bytes", "istio_response_bytes"):
        count = mg.metric_sum(after, name + "_count", **want) - mg.metric_sum(before, name + "_count", **want)
        mg.check(count == 7, f"{name}_count counts the 7 requests", count)
        buckets = sorted(((float(s.labels["le"]), s.value) for s in mg.select(after, name + "_bucket", **want)),
                         key=lambda b: b[0])
        values = [v for _, v in buckets]
        mg.check(buckets and buckets[-1][0] == float("inf") and values == sorted(values)
                 and buckets[-1][1] == mg.metric_sum(after, name + "_count", **want),
                 f"{name} buckets are cumulative up to +Inf = _count", buckets[-3:])
    total = mg.metric_sum(after, "istio_response_bytes_sum", **want) - \
        mg.metric_sum(before, "istio_response_bytes_sum", **want)
    mg.check(total >= 7 * len(b"ratings\n"), "istio_response_bytes_sum counts the bodies", total)


def check_access_log(m):
    def lines():
        text = m.access_log()
        hits = [ln for ln in text.splitlines() if REQUEST_ID in ln]
        nr = [ln for ln in text.splitlines() if '"GET /nothing HTTP/1.1" 404 NR' in ln]
        return (hits, nr) if hits and len(nr) >= 3 else None
    got = mg.wait_for(lines, 5)
    mg.check(got is not None, "access log has the requests (x-request-id, 404 NR lines)",
             m.access_log()[-500:])
    if got:
        line = got[0][0]
        mg.check('"GET /api/0 HTTP/1.1" 200 -' in line, "access log line: method, path, protocol, code, flags",
                 line)
        mg.check(f'"{HOST}"' in line, "access log line: authority", line)


def main():
    mg.binary()
    a = mg.Upstream("ratings")
    m = mg.Mesh(yaml=[mg.service_entry("ratings-se", HOST, [a.endpoint]),
                      mg.virtual_service("ratings", HOST, [mg.http_route([mg.dest(HOST)], prefix="/api")])],
                name="metrics").start()
    check_admin(m)
    check_request_metrics(m)
    check_access_log(m)


mg.run(main)
