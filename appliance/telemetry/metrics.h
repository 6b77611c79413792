// SPDX-License-Identifier: Apache-2.0
// metrics.h: per-worker metric stores, summed when scraped. A worker is the
// only writer of its store and never locks; the scraper (control thread)
// reads concurrently: series are append-only in a fixed table and published
// with a release store, counters are written with relaxed atomic stores.
#ifndef MG_TELEMETRY_METRICS_H
#define MG_TELEMETRY_METRICS_H

#include <stdint.h>
#include <stddef.h>

struct buf;

// Istio's standard labels, in the order of istio/proxy's golden files.
// HTTP series use all 25; TCP series skip RESPONSE_CODE and GRPC_STATUS.
enum istio_label {
	IL_REPORTER = 0,
	IL_SOURCE_WORKLOAD,
	IL_SOURCE_CANONICAL_SERVICE,
	IL_SOURCE_CANONICAL_REVISION,
	IL_SOURCE_WORKLOAD_NAMESPACE,
	IL_SOURCE_PRINCIPAL,
	IL_SOURCE_APP,
	IL_SOURCE_VERSION,
	IL_SOURCE_CLUSTER,
	IL_DESTINATION_WORKLOAD,
	IL_DESTINATION_WORKLOAD_NAMESPACE,
	IL_DESTINATION_PRINCIPAL,
	IL_DESTINATION_APP,
	IL_DESTINATION_VERSION,
	IL_DESTINATION_SERVICE,
	IL_DESTINATION_CANONICAL_SERVICE,
	IL_DESTINATION_CANONICAL_REVISION,
	IL_DESTINATION_SERVICE_NAME,
	IL_DESTINATION_SERVICE_NAMESPACE,
	IL_DESTINATION_CLUSTER,
	IL_REQUEST_PROTOCOL,
	IL_RESPONSE_CODE,
	IL_GRPC_RESPONSE_STATUS,
	IL_RESPONSE_FLAGS,
	IL_CONNECTION_SECURITY_POLICY,
	IL_COUNT,
};

extern const char *const istio_label_names[IL_COUNT];

// meshgate's own counters (engine, parser, proxy), per worker.
enum mg_counter {
	MC_ACCEPTED = 0,		// downstream connections accepted
	MC_ACCEPT_ERRORS,
	MC_DOWNSTREAM_ACTIVE,		// gauge: open downstream connections
	MC_UPSTREAM_CONNECT,		// upstream connects started
	MC_UPSTREAM_CONNECT_FAIL,
	MC_UPSTREAM_OVERFLOW,		// refused by a cluster's max_requests (503 UO)
	MC_UPSTREAM_REUSED,		// requests sent on a pooled connection
	MC_UPSTREAM_ACTIVE,		// gauge: open upstream connections
	MC_RQ_TOTAL,			// downstream requests
	MC_RQ_400, MC_RQ_413, MC_RQ_414, MC_RQ_431, MC_RQ_501, MC_RQ_505,
	MC_RQ_HEADER_TIMEOUT,		// slowloris: head not complete in time
	MC_UPSTREAM_BAD_RESPONSE,	// framing errors in upstream responses (502)
	MC_NO_ROUTE,			// 404 NR
	MC_BLACKHOLE,			// REGISTRY_ONLY refusals
	MC_NO_HEALTHY,			// 503 UH
	MC_CONNECT_FAILED,		// 503 UF
	MC_ROUTE_TIMEOUT,		// 504 UT
	MC_DOWNSTREAM_RESET,		// DC
	MC_RETRIES,
	MC_RECV_ENOBUFS,		// provided buffers ran out
	MC_SNAPSHOT_SWAPS,
	MC_LOG_DROPPED,			// access/log bytes dropped (writer full)
	MC_NO_ORIGINAL_DST,		// original_dst listener: not redirected, closed
	MC_TLS_HANDSHAKE_SHED,		// TLS handshakes refused over the cap/rate
	// downstream HTTP/2, added up from each session's counters at its end
	MC_H2_CX,			// connections that spoke HTTP/2
	MC_H2_RX_RESET,			// RST_STREAM received
	MC_H2_TX_RESET,			// RST_STREAM sent
	MC_H2_PREMATURE_RESET,		// streams ended without a response (Rapid Reset)
	MC_H2_HEADER_OVERFLOW,		// header sections over the limits (431)
	MC_H2_EMPTY_FRAMES,		// empty DATA frames without END_STREAM
	MC_H2_REFUSED,			// streams refused over max_concurrent_streams
	MC_H2_PROTOCOL_ERROR,		// sessions the client broke (floods included)
	MC_H2_GOAWAY_SENT,
	MC_COUNT,
};

extern const char *const mg_counter_names[MC_COUNT];	// "downstream_cx_total", ...
extern const char mg_counter_is_gauge[MC_COUNT];

enum {
	METRICS_MAX_SERIES = 4096,	// per worker and per kind; more are counted in .overflow
	METRICS_NUM_DURATION_BUCKETS = 19,
	METRICS_NUM_BYTES_BUCKETS = 10,
	// Label values are cut to this many bytes before they key a series, so
	// a hostile peer cannot make a store intern megabytes per series.
	METRICS_MAX_LABEL_LEN = 512,
};

// Istio's default duration buckets in ms (upper bounds; +Inf implied).
extern const double metrics_duration_buckets[METRICS_NUM_DURATION_BUCKETS];

// metrics_bytes_buckets are the upper bounds of istio_request_bytes and
// istio_response_bytes: powers of ten from 1 B to 1 GB (+Inf implied), i.e.
// Istio's classic exponential size buckets (1 B..10 MB, factor 10) carried
// on to 1 GB for large uploads and downloads.
extern const uint64_t metrics_bytes_buckets[METRICS_NUM_BYTES_BUCKETS];

// metrics_kind names a store's two series tables.
enum metrics_kind {
	MK_HTTP = 0,
	MK_TCP,
	MK_COUNT,
};

struct metrics;	// one per worker, opaque

// metrics_new allocates a store. It returns NULL on ENOMEM.
struct metrics *metrics_new(void);

// metrics_free frees a store and its series; NULL is a no-op. No thread may
// be writing to or rendering m any more.
void metrics_free(struct metrics *m);

// metrics_inc adds v to one of meshgate's own counters (gauges take signed
// deltas through metrics_gauge_add).
void metrics_inc(struct metrics *m, enum mg_counter c, uint64_t v);
void metrics_gauge_add(struct metrics *m, enum mg_counter c, int64_t delta);
uint64_t metrics_get(const struct metrics *m, enum mg_counter c);

// metrics_http_observe counts one HTTP request: istio_requests_total,
// istio_request_duration_milliseconds, istio_request_bytes and
// istio_response_bytes. labels has IL_COUNT values; NULL or "" is "unknown"
// (and "-" for IL_RESPONSE_FLAGS). The strings are copied on first use of a
// label set.
void metrics_http_observe(struct metrics *m, const char *const labels[IL_COUNT],
			  double duration_ms, uint64_t request_bytes,
			  uint64_t response_bytes);

// metrics_tcp_* count istio_tcp_connections_opened_total / closed_total and
// istio_tcp_sent_bytes_total / received_bytes_total for a TCP label set
// (IL_RESPONSE_CODE and IL_GRPC_RESPONSE_STATUS are ignored).
void metrics_tcp_opened(struct metrics *m, const char *const labels[IL_COUNT]);
void metrics_tcp_closed(struct metrics *m, const char *const labels[IL_COUNT]);
void metrics_tcp_bytes(struct metrics *m, const char *const labels[IL_COUNT],
		       uint64_t sent, uint64_t received);

// metrics_num_series returns how many series of kind m holds (at most
// METRICS_MAX_SERIES). Any thread may call it.
unsigned metrics_num_series(const struct metrics *m, enum metrics_kind kind);

// metrics_overflow returns how many observations of kind m dropped because
// its table was full (or its label memory budget spent, or malloc failed).
// They are rendered as meshgate_metrics_{http,tcp}_series_overflow. Any
// thread may call it.
uint64_t metrics_overflow(const struct metrics *m, enum metrics_kind kind);

// metrics_render_prometheus appends the Prometheus text exposition (0.0.4)
// of the sum over stores[0..n) to out: Istio series first (with # TYPE
// lines), then meshgate_* counters. Called from any thread while workers
// keep writing. It returns 0 or -ENOMEM.
int metrics_render_prometheus(struct buf *out, struct metrics *const *stores, int n);

// metrics_render_stats appends Envoy-/stats-like "name: value" lines of
// meshgate's own counters summed over stores. It returns 0 or -ENOMEM.
int metrics_render_stats(struct buf *out, struct metrics *const *stores, int n);

#endif
