// SPDX-License-Identifier: Apache-2.0
// proxy.h: the data plane's per-worker types: a worker thread with its
// ring, listeners, snapshot holds, endpoint state and connection pools, and
// the HTTP/1.1 and TCP connection objects that run on it.
#ifndef MG_PROXY_PROXY_H
#define MG_PROXY_PROXY_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/list.h"
#include "core/snapshot.h"
#include "kernel-bypass/ring.h"
#include "kernel-bypass/sock.h"
#include "proto/h1.h"
#include "telemetry/metrics.h"

struct worker;
struct bootstrap;
struct h2_conn;
struct h2_stream;
struct h2up;
struct h2c_stream;
struct tls_conn;
struct tls_server;

// A worker's reference on a snapshot, counted without atomics: requests
// started on it hold it; when the worker has moved on and the last user is
// gone, the worker drops its one real reference.
struct snap_hold {
	struct snapshot *snap;
	uint32_t users;
	struct list link;
};

// Per-worker state of an upstream endpoint, found by address. Entries are
// append-only so the control thread can read counters concurrently.
struct ep_state {
	struct sockaddr_storage addr;	// key
	socklen_t addr_len;
	uint64_t hash;
	uint32_t active_rq;		// least-request input
	uint32_t num_idle;
	struct list idle;		// pooled upconns
	struct list h2_conns;		// HTTP/2 connections (struct h2up), any state
	uint64_t rq_total, cx_total, cx_connect_fail, rq_error;	// relaxed-atomic
	int published;			// release-stored 1 once the key is valid
};

// An endpoint keeps up to POOL_MAX_IDLE_PER_EP idle HTTP/1.1 connections per
// worker: enough for HTTP/2 clients whose hundreds of concurrent streams each
// take one (with 64, 2 in 5 requests reconnected at 512 streams in flight).
enum { EP_TABLE_SIZE = 4096, POOL_MAX_IDLE_PER_EP = 1024 };

struct wlistener {
	struct sock_listener sl;	// first: 8-aligned for user_data
	struct worker *w;
	uint32_t idx;			// index in snapshot->listeners (and bootstrap)
};

struct worker {
	struct ring ring;
	int id;
	pthread_t thread;
	struct metrics *metrics;
	struct ring_writer access_log;
	bool access_log_on;
	struct buf log_line;		// reused for each access-log line
	struct buf h2_head;		// a response head for an HTTP/2 stream, being built
	struct snapshot *const *global;	// the published snapshot pointer
	struct snap_hold *cur;		// hold on the current snapshot
	struct list holds;		// older holds still in use
	uint64_t seen_gen;		// atomic: the generation this worker runs on
	uint64_t seen_ns;		// atomic: when it switched to it (CLOCK_MONOTONIC)
	struct wlistener *listeners;
	uint32_t num_listeners;
	struct ep_state *eps;		// EP_TABLE_SIZE entries
	uint32_t num_eps;
	struct list conns;		// downstream HTTP connections
	struct list tcp_conns;		// TCP proxy connections
	struct list h2_dirty;		// HTTP/2 connections with frames to produce
	struct list h2up_dirty;		// the same, upstream (struct h2up)
	uint32_t num_conns;
	uint32_t num_up;			// upstream HTTP connections alive
	char date[40];			// cached HTTP Date value
	uint64_t date_sec;
	uint64_t rng;
	int draining;			// atomic, set by the control thread
	bool drain_started;
	int stop;			// atomic
	struct h1_msg scratch;		// parse target for heads (copied out at once)
	uint32_t hs_pending;		// server TLS handshakes not finished
	uint64_t hs_credit;		// handshake rate bucket, in 1/1000 handshakes
	uint64_t hs_refill_ns;
	const struct bootstrap *boot;
	int ready_fd;			// startup handshake
	int init_err;
};

// Upstream HTTP/1.1 connection, pooled per worker per endpoint.
enum up_state {
	UP_CONNECTING = 0,
	UP_BUSY,
	UP_IDLE,
	UP_CLOSING,
};

struct hconn;

struct upconn {
	struct sock s;			// first
	struct worker *w;
	struct ep_state *ep;
	struct list link;		// ep->idle while idle
	struct hconn *owner;
	struct buf in;			// response head being accumulated
	size_t scanned;
	struct ring_timer timer;	// connect or idle timeout
	enum up_state state;
	uint32_t requests;
	bool reused;			// served a request before the current one
	bool got_bytes;			// response bytes seen for the current request
	uint64_t tls_key;		// 0: plaintext; else the cluster's tls_key
	bool handshaking;
};

enum ds_state {
	DS_HEAD = 0,		// waiting for a request head
	DS_UPSTREAM,		// routed, acquiring an upstream connection
	DS_ACTIVE,		// request/response streaming
	DS_TUNNEL,		// upgraded (WebSocket): raw bytes both ways
	DS_LINGER,		// answer sent, discarding input until EOF/timer
	DS_CLOSED,
};

// Downstream HTTP/1.1 connection and its current transaction.
struct hconn {
	struct sock s;			// first
	struct worker *w;
	struct wlistener *l;
	struct list link;
	struct tls_conn *tls;		// set once a TLS handshake finished, else NULL
	struct tls_server *sniff_srv;	// PERMISSIVE: deciding TLS or plaintext (a reference)
	bool hs_pending;		// counted in w->hs_pending
	struct buf sniff;		// the first bytes while deciding
	struct sockaddr_storage peer, local;
	struct buf in;			// unconsumed input
	size_t scanned;
	struct ring_timer timer;	// header/idle/linger timeout
	struct ring_timer rq_timer;	// route timeout, retry backoff
	struct ring_timer dl_timer;	// gRPC: the call's grpc-timeout, from its start
	enum ds_state state;
	bool is_tcp;
	bool paused;			// recv stopped for backpressure
	bool keepalive;
	uint32_t requests;
	// current request, copied out of the parsed head
	struct snap_hold *hold;
	const struct snap_cluster *cluster;
	const struct snap_cluster *counted;	// holds one of its rq_active (circuit breaker)
	const struct snap_route *route;
	const struct snap_dest *dest;		// the route's destination picked, or NULL
	const char *route_name;
	const struct snap_endpoint *ep;		// chosen endpoint
	const struct snap_endpoint *failed_ep;	// previous host on retry
	struct ep_state *eps;
	struct upconn *up;
	struct buf rq_head;		// serialized upstream request head (kept for retry)
	struct buf meta;		// strings for logs/metrics: method, path, authority, ...
	struct mstr { uint32_t off, len; } m_method, m_path, m_authority, m_ua, m_xff, m_reqid;
	bool head_started;		// first byte of a head seen: header timeout runs
	bool up_paused;			// upstream recv stopped for backpressure
	bool up_reusable;		// the upstream connection may be pooled after this
	bool rq_body_sent;		// body bytes went upstream: no silent replay
	bool in_feed;			// feed() on the stack: no recursion for pipelining
	bool rs_zero_written;		// last-chunk line written (trailers follow)
	bool rq_zero_written;
	bool peer_eof;			// client closed its side
	int reuse_retries;		// replays after a dead pooled connection
	struct snap_endpoint pt_ep;	// ALLOW_ANY passthrough destination
	struct snap_cluster pt_cluster;	// its cluster, or the original_dst one
	// original_dst listener: every request goes to od_ep, where the
	// connection was redirected from; raw: the connection is a byte
	// tunnel to it (PERMISSIVE and TLS that is not Istio's)
	struct snap_endpoint od_ep;
	bool od;
	bool inbound;		// od on an inbound listener: no Host routing
	bool detect;		// captured outbound: HTTP, TLS or opaque, not known yet
	bool raw;
	int minor;
	bool head_request;
	bool expect_continue;
	bool upgrade;
	enum h1_framing rq_framing;
	uint64_t rq_remaining;
	struct h1_chunked rq_chunked;
	bool rq_done;
	int status;
	enum h1_framing rs_framing;
	uint64_t rs_remaining;
	struct h1_chunked rs_chunked;
	bool rs_chunk_out;		// response re-encoded as chunked toward the client
	bool rs_head_sent;
	bool rs_done;
	uint32_t num_1xx;
	int retries;
	const char *flags;		// response flags, "-" if none
	const char *details;		// response code details
	uint64_t start_ns, start_wall_ns, upstream_sent_ns, upstream_head_ns;
	uint64_t rq_bytes, rs_bytes;
	// HTTP/2 (h2down.c). A connection that speaks it owns the socket and
	// the session (h2); each request stream is an hconn of its own that
	// carries one transaction: parent is the connection, s is unused,
	// and it is freed when both the transaction and the codec's stream
	// have ended (state DS_CLOSED and h2s NULL).
	struct h2_conn *h2;		// connection: the session, else NULL
	struct list h2_link;		// connection: on w->h2_dirty while linked
	uint32_t h2_streams;		// connection: streams with an hconn
	uint64_t h2_idle_due_ms;	// connection: idle from then (ring time)
	uint64_t h2_settings_due_ms;	// connection: our SETTINGS must be acked by then (0: done)
	bool proto_known;		// connection: HTTP/1.1 or HTTP/2 decided
	struct hconn *parent;		// stream: its connection
	struct h2_stream *h2s;		// stream: the codec's stream, NULL once closed
	struct buf rs_pending;		// stream: response bytes the codec has no room for
	struct buf rs_trailers;		// stream: "name\0value\0" pairs to send at the end
	uint32_t num_rs_trailers;
	bool rq_eos;			// stream: the request's END_STREAM arrived
	bool rs_end_wanted;		// stream: end the response once rs_pending is sent
	bool rs_ended;			// stream: the response's end is submitted
	bool grpc;			// content-type application/grpc
	char grpc_status[4];		// the response's grpc-status, "" if none
	// HTTP/2 upstream (h2up.c): the transaction's stream on a shared
	// connection instead of an upconn of its own (then up is NULL)
	struct h2up *mux;		// the connection it has or waits for
	struct h2c_stream *ust;		// its stream once opened
	struct list mux_link;		// on mux->waiting until the connection is ready
	struct buf rq_pending;		// request bytes the stream has no room for
	uint64_t rs_unconsumed;		// response bytes not yet given back to the window
	bool ust_end_wanted;		// end the request once rq_pending is sent
	bool ust_ended;
};

// worker.c
int workers_start(struct worker **out, int n, const struct bootstrap *b,
		  struct snapshot *const *global);
void worker_snap_acquire(struct worker *w, struct snap_hold **out);
void worker_snap_release(struct worker *w, struct snap_hold *h);
uint64_t worker_rand(struct worker *w);
void worker_conn_done(struct worker *w, struct list *link);
// worker_hs_admit decides whether a new connection may start a server TLS
// handshake (the snapshot's pending cap and rate); when it may not, the
// shed is counted and logged and the caller closes the connection. An
// admitted handshake ends with worker_hs_done, once.
bool worker_hs_admit(struct worker *w, const struct snapshot *s);
void worker_hs_done(struct worker *w);

// worker_labels fills Istio's standard labels for traffic through listener
// idx to cluster c (may be NULL) into labels[], which the caller zeroed.
// Outbound and gateway listeners report as "source" (this appliance is the
// client side); inbound ones as "destination", with the peer's SPIFFE
// identity (peer: the downstream TLS connection, NULL for plaintext) as
// source_principal and connection_security_policy mutual_tls or none.
void worker_labels(const struct snapshot *s, uint32_t idx, const struct snap_cluster *c,
		   const struct tls_conn *peer, const char *labels[IL_COUNT]);

// original_dst.c: original_dst fills ep with the address a redirected
// connection on fd was going to; local is the socket's own address. It
// returns 0, -ELOOP when the connection was not redirected (its original
// destination is the listener itself), or -errno from getsockopt (ENOENT:
// no conntrack entry). original_dst_cluster makes out a copy of tmpl (the
// snapshot's InboundPassthroughCluster or PassthroughCluster, or a
// ServiceEntry cluster with resolution NONE) with ep as its one endpoint;
// ep must outlive it.
int original_dst(int fd, const struct sockaddr_storage *local, struct snap_endpoint *ep);
void original_dst_cluster(const struct snap_cluster *tmpl, const struct snap_endpoint *ep,
			  struct snap_cluster *out);
// listener_peer_auth is the PeerAuthentication mode a new connection on l
// follows: per original destination port when od is not NULL.
int listener_peer_auth(const struct snap_listener *l, const struct snap_endpoint *od);

// lb.c: endpoint state and load balancing
struct ep_state *ep_state_get(struct worker *w, const struct snap_endpoint *ep);
// ep_state_find is the read-only lookup other threads use (admin /clusters).
const struct ep_state *ep_state_find(const struct worker *w, const struct snap_endpoint *ep);
const struct snap_endpoint *lb_pick(struct worker *w, const struct snap_cluster *c,
				    const struct snap_endpoint *avoid);

// route.c
enum route_kind {
	ROUTE_CLUSTER = 0,	// forward to .cluster
	ROUTE_NOT_FOUND,	// 404 NR
	ROUTE_BLOCK_ALL,	// 502 block_all (REGISTRY_ONLY)
	ROUTE_PASSTHROUGH,	// ALLOW_ANY: original destination
	ROUTE_NO_CLUSTER,	// 503 NC: destination not in the registry
	ROUTE_NOT_IMPLEMENTED,	// 500: the route needs a feature not built yet
	ROUTE_REDIRECT,		// the route's redirect (route->redirect)
	ROUTE_DIRECT,		// the route's direct response (route->direct)
};

struct route_result {
	enum route_kind kind;
	const struct snap_cluster *cluster;
	const struct snap_route *route;
	const char *route_name;
	const struct snap_match *match;	// the match that selected route (NULL: none had to)
	const struct snap_dest *dest;	// the weighted destination picked, or NULL
};

// route_request selects the route for a request: host is lowercase without
// port, port is the authority's port (0 if none), path without the query.
void route_request(const struct snapshot *s, const char *host, size_t host_len,
		   uint32_t port, uint16_t listener_port, const char *path, size_t path_len,
		   uint64_t rnd, struct route_result *out);

// http.c
void http_accept(struct wlistener *l, int fd);
void http_drain(struct worker *w);
// http_close_all and tcp_close_all end every connection now (drain deadline).
void http_close_all(struct worker *w);
void tcp_close_all(struct worker *w);
// upstream.c
void upstream_acquire(struct hconn *c);
void upstream_release(struct upconn *up, bool reusable);
void upstream_abort(struct upconn *up);
void upstream_close_idle(struct worker *w);
// upstream_tls_key says which TLS settings a connection to ep of c needs
// (0: plaintext), and upstream_start_tls begins that handshake on a
// connected socket; both are shared with tcp.c.
uint64_t upstream_tls_key(const struct snap_cluster *c, const struct snap_endpoint *ep);
int upstream_start_tls(struct sock *s, const struct snap_cluster *c,
		       void (*cb)(struct sock *s, struct tls_conn *t, int err));
// callbacks from upstream.c into http.c
void http_upstream_ready(struct hconn *c);
void http_upstream_failed(struct hconn *c, int err, bool connect_failure);
void http_upstream_data(struct hconn *c, const char *p, size_t len);
void http_upstream_eof(struct hconn *c, int err);
// http_upstream_reset: the upstream reset the request's HTTP/2 stream
// (RST_STREAM with code): 503 UR before the response head, else the
// client's connection is reset.
void http_upstream_reset(struct hconn *c, uint32_t code);
void http_upstream_drained(struct hconn *c);
// Shared between http.c and h2down.c: http.c runs transactions, h2down.c
// the HTTP/2 connections and streams they may belong to.
void http_start_request(struct hconn *c, const struct h1_msg *m);
void http_bad_request(struct hconn *c, int status);
void http_conn_close(struct hconn *c);
void http_close_flushing(struct hconn *c);
void http_request_done(struct hconn *c);
void http_update_flow(struct hconn *c);
void http_feed(struct hconn *c, const char *p, size_t len);
// h2down_detect looks at a new connection's first bytes (with what is
// buffered in c->in): the HTTP/2 preface, or TLS that chose h2 by ALPN,
// starts an HTTP/2 session. It returns true when it took the bytes.
bool h2down_detect(struct hconn *c, const char *p, size_t len);
void h2down_input(struct hconn *c, const char *p, size_t len);
void h2down_eof(struct hconn *c, int err);
void h2down_drained(struct hconn *c);
void h2down_drain(struct hconn *c);
// h2down_free ends the session (every stream's transaction closed).
void h2down_free(struct hconn *c);
// h2down_service produces the frames of the connections streams touched
// since the last call; the worker runs it after each ring turn, the only
// place besides input where streams close and their hconn is freed.
void h2down_service(struct worker *w);
// stream side: the response toward the client
// h2down_respond sends a response head given in HTTP/1.1 form (status
// line, field lines, CRLF), as http.c builds it for a client of either
// version: connection-specific fields are dropped, names lowercased.
int h2down_respond(struct hconn *t, const char *head, size_t len, bool end_stream);
void h2down_write(struct hconn *t, const char *p, size_t len);
void h2down_trailer(struct hconn *t, const char *name, size_t name_len, const char *value,
		    size_t value_len);
// h2down_done: the transaction is over (finished or closed); the stream
// ends cleanly once its response is sent, or is reset if abort.
void h2down_done(struct hconn *t, bool abort);
// h2down_pump moves buffered request body bytes upstream.
void h2down_pump(struct hconn *t);
// h2up.c: HTTP/2 toward upstreams. h2up_wanted says whether c's request
// goes over HTTP/2 (its cluster's protocol); h2up_acquire opens a stream
// for it on a pooled connection (or connects one) and calls
// http_upstream_ready or http_upstream_failed as upstream_acquire does.
bool h2up_wanted(const struct hconn *c);
void h2up_acquire(struct hconn *c);
// the request body: bytes (unframed), trailers ("name: value\r\n" lines
// in c->sniff), the end
void h2up_write(struct hconn *c, const char *p, size_t len);
void h2up_end(struct hconn *c);
// h2up_pending: request bytes waiting for room in the stream
size_t h2up_pending(const struct hconn *c);
// h2up_consume gives the response bytes passed on back to the windows
void h2up_consume(struct hconn *c);
// h2up_release ends the transaction's use of its stream (reset when
// abort or the exchange is not complete).
void h2up_release(struct hconn *c, bool abort);
void h2up_service(struct worker *w);
void h2up_close_idle(struct worker *w, bool all);
// http.c, for h2up.c: the response of an HTTP/2 upstream stream
void http_upstream_h2_head(struct hconn *c, const struct h1_msg *m);
void http_upstream_h2_data(struct hconn *c, const char *p, size_t len);
void http_upstream_h2_trailer(struct hconn *c, const char *name, size_t name_len,
			      const char *value, size_t value_len);
void http_upstream_h2_end(struct hconn *c);
void http_upstream_interim(struct hconn *c, int status);
// tcp.c
void tcp_accept(struct wlistener *l, int fd);

// permissive_sniff decides what the first bytes on a PERMISSIVE listener
// are: it returns 1 for TLS with an Istio ALPN (terminate as mTLS), 2 for
// TLS without one (Istio passes it through untouched), 0 for anything else
// (plaintext), -EAGAIN when more bytes are needed, -EBADMSG for a broken
// TLS hello.
int permissive_sniff(const char *p, size_t len);
enum { SNIFF_MAX = 16384 + 5 };

#endif
