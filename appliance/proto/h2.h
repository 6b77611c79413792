// SPDX-License-Identifier: Apache-2.0
// h2.h: the HTTP/2 server-side codec on nghttp2, transport-free. The owner
// feeds received (decrypted) bytes in and sends what comes out in a struct
// buf; it never sees nghttp2. Per-stream callbacks deliver validated request
// headers, body chunks, trailers and the stream's end; the owner answers
// with response headers, a body buffered per stream and trailers. The
// hardening of hardening.md §1.1/§2.2 is built in: SETTINGS limits, windows,
// header list bound (counted while decoding), Rapid Reset accounting, flood
// guards and a bounded output.
//
// Threading: one h2_conn belongs to one thread. No callback is re-entered:
// the owner may call any h2_stream_* and h2_conn_* function from inside a
// callback except h2_conn_input, h2_conn_flush and h2_conn_free.
#ifndef MG_PROTO_H2_H
#define MG_PROTO_H2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

enum {
	H2_MAX_CONCURRENT_STREAMS = 100,	// SETTINGS_MAX_CONCURRENT_STREAMS
	H2_INITIAL_WINDOW = 64 * 1024,		// SETTINGS_INITIAL_WINDOW_SIZE (per stream)
	H2_CONN_WINDOW = 1024 * 1024,		// connection receive window
	H2_HEADER_TABLE = 4096,			// SETTINGS_HEADER_TABLE_SIZE (HPACK)
	H2_MAX_HEADER_LIST = 64 * 1024,		// SETTINGS_MAX_HEADER_LIST_SIZE, enforced: 431
	H2_MAX_HEADERS = 100,			// fields per header section, pseudo-headers included: 431
	H2_MAX_PREMATURE_RESETS = 1000,		// per connection, then GOAWAY(ENHANCE_YOUR_CALM)
	H2_STREAM_OUT_MAX = 96 * 1024,		// response bytes buffered per stream (window + 32 KiB)
	H2_OUT_HIGHWAT = 64 * 1024,		// stop producing frames while out holds this much
	H2_MAX_EMPTY_FRAMES = 1,		// consecutive empty DATA frames without END_STREAM
	H2_MAX_CONTINUATIONS = 8,		// CONTINUATION frames after one HEADERS
	H2_MAX_TRAILERS = 32,			// response trailer fields
};

// h2_error lists the RFC 9113 §7 error codes for resets and GOAWAY.
enum h2_error {
	H2_NO_ERROR = 0x0,
	H2_PROTOCOL_ERROR = 0x1,
	H2_INTERNAL_ERROR = 0x2,
	H2_FLOW_CONTROL_ERROR = 0x3,
	H2_SETTINGS_TIMEOUT = 0x4,
	H2_STREAM_CLOSED = 0x5,
	H2_FRAME_SIZE_ERROR = 0x6,
	H2_REFUSED_STREAM = 0x7,
	H2_CANCEL = 0x8,
	H2_COMPRESSION_ERROR = 0x9,
	H2_CONNECT_ERROR = 0xa,
	H2_ENHANCE_YOUR_CALM = 0xb,
	H2_INADEQUATE_SECURITY = 0xc,
	H2_HTTP_1_1_REQUIRED = 0xd,
};

// h2_header is one field. Received fields are NUL-terminated, names are
// lowercase (nghttp2 rejects uppercase), pseudo-headers come first and were
// validated by nghttp2 (RFC 9113 §8.3: :method, :scheme, :path present and
// once each, no connection-specific fields, TE only "trailers"). Fields the
// owner submits need not be NUL-terminated but names must be lowercase.
struct h2_header {
	const char *name;
	const char *value;
	uint32_t name_len;
	uint32_t value_len;
};

struct h2_conn;
struct h2_stream;

// h2_callbacks are the owner's per-stream hooks; arg is the pointer given to
// h2_conn_new. Callbacks returning int return 0, or a negative errno to
// reset the stream with INTERNAL_ERROR. Only on_headers is required.
struct h2_callbacks {
	// on_headers delivers a request's header section; h and the strings
	// are valid during the call only. end_stream says the request has no
	// body (on_end_stream follows anyway).
	int (*on_headers)(void *arg, struct h2_stream *s, const struct h2_header *h,
			  size_t num, bool end_stream);
	// on_data delivers a chunk of the request body (at most one DATA
	// frame's payload). Flow control is automatic: the chunk counts as
	// consumed when the call returns; with manual_consume it counts only
	// once passed to h2_stream_consume.
	int (*on_data)(void *arg, struct h2_stream *s, const char *p, size_t len);
	// on_trailers delivers request trailers (on_end_stream follows).
	// NULL: trailers are dropped.
	int (*on_trailers)(void *arg, struct h2_stream *s, const struct h2_header *h,
			   size_t num);
	// on_end_stream says the request is complete.
	int (*on_end_stream)(void *arg, struct h2_stream *s);
	// on_stream_close is called once for every stream on_headers saw,
	// when nghttp2 forgets it: error_code is H2_NO_ERROR after a clean
	// exchange, else the reset's code. s is freed when it returns.
	void (*on_stream_close)(void *arg, struct h2_stream *s, uint32_t error_code);
	// on_drain says s's response buffer is empty again after an
	// h2_stream_write returned -ENOBUFS: write more now.
	void (*on_drain)(void *arg, struct h2_stream *s);
};

// h2_config holds the per-connection limits; h2_config_default fills in
// the H2_* values above. Zero out_highwat means no output bound.
//
// manual_consume (default false) turns on manual flow control, for a proxy
// that must not read faster than it writes: received body bytes count
// against the stream and connection windows until the owner calls
// h2_stream_consume, so the peer can have at most initial_window bytes per
// stream and conn_window per connection in flight; more is a
// FLOW_CONTROL_ERROR. Bytes a stream still holds unconsumed when it closes
// or is reset are credited back to the connection window, and bytes the
// owner never sees (a rejected stream's) count as consumed at once.
struct h2_config {
	uint32_t max_concurrent_streams;
	uint32_t initial_window;
	uint32_t conn_window;
	uint32_t header_table;
	uint32_t max_header_list;
	uint32_t max_headers;
	uint32_t max_premature_resets;
	uint32_t stream_out_max;
	uint32_t out_highwat;
	uint32_t max_empty_frames;
	uint32_t max_continuations;
	bool manual_consume;
};

// h2_stats counts one connection's events.
struct h2_stats {
	uint64_t bytes_in, bytes_out;
	uint64_t streams;		// request streams opened by the peer
	uint64_t refused;		// REFUSED_STREAM sent (over max_concurrent_streams)
	uint64_t resets_recv;		// RST_STREAM received
	uint64_t resets_sent;		// RST_STREAM sent, for any reason
	// premature_resets counts streams that ended without a complete
	// response: reset by the peer (Rapid Reset, CVE-2023-44487), reset by
	// nghttp2 for a malformed request, or rejected with 431.
	uint64_t premature_resets;
	uint64_t header_overflows;	// header sections over max_header_list / max_headers
	uint64_t empty_frames;		// empty DATA frames without END_STREAM
	uint64_t window_updates;	// WINDOW_UPDATE frames received
	uint64_t data_frames_sent;
	uint64_t goaway_sent, goaway_recv;
	uint64_t protocol_errors;	// connection errors caused by the peer
	// unprocessed counts streams the client codec saw closed with
	// REFUSED_STREAM: refused, above the peer's GOAWAY, or never sent.
	uint64_t unprocessed;
	// bad_preface: the peer's connection preface was wrong (the client
	// magic, or a first frame that is not SETTINGS).
	bool bad_preface;
};

// h2_config_default fills cfg with the H2_* defaults.
void h2_config_default(struct h2_config *cfg);

// h2_conn_new starts a server session: it appends the server preface
// (SETTINGS, then the connection WINDOW_UPDATE) to out. cfg may be NULL for
// the defaults; cb and arg are borrowed and must outlive the connection. It
// returns NULL when out of memory.
struct h2_conn *h2_conn_new(const struct h2_config *cfg, const struct h2_callbacks *cb,
			    void *arg, struct buf *out);

// h2_conn_input feeds received bytes (any split), runs the callbacks and
// appends what must be sent to out. It returns 0 while the session goes
// on; else the connection must be closed once out is flushed: -EPROTO (the
// peer broke the protocol: bad preface, flood, a connection error; a GOAWAY
// is in out when one can be sent), -ESHUTDOWN (the session ended: GOAWAY
// exchanged and no stream left), -ENOMEM.
int h2_conn_input(struct h2_conn *c, const char *p, size_t len, struct buf *out);

// h2_conn_flush appends pending frames to out, at most until out holds
// out_highwat bytes: call it after submitting outside a callback and after
// sending part of out. It returns as h2_conn_input does.
int h2_conn_flush(struct h2_conn *c, struct buf *out);

// h2_conn_want_close says nghttp2 has nothing more to read or write.
bool h2_conn_want_close(const struct h2_conn *c);

// h2_conn_settings_acked says the peer acknowledged our SETTINGS; the owner
// closes connections that have not done so within 10 s.
bool h2_conn_settings_acked(const struct h2_conn *c);

// h2_conn_stats returns the connection's counters (borrowed).
const struct h2_stats *h2_conn_stats(const struct h2_conn *c);

// h2_conn_shutdown starts a graceful shutdown: a GOAWAY announcing it
// (last stream 2^31-1) and a PING; when the PING's ACK comes back, the
// final GOAWAY(NO_ERROR) names the last stream processed. Streams up to it
// complete; the session then ends (-ESHUTDOWN). It returns 0 or -errno.
int h2_conn_shutdown(struct h2_conn *c);

// h2_conn_goaway sends the final GOAWAY now with error_code and the last
// stream processed. With H2_NO_ERROR open streams may complete; any other
// code ends the session once the GOAWAY is sent. It returns 0 or -errno.
int h2_conn_goaway(struct h2_conn *c, uint32_t error_code);

// h2_conn_free releases the session. It first calls on_stream_close with
// H2_CANCEL for every stream still open. NULL is a no-op.
void h2_conn_free(struct h2_conn *c);

// h2_stream_id returns the stream's identifier.
int32_t h2_stream_id(const struct h2_stream *s);

// h2_stream_set_data attaches the owner's per-stream state.
void h2_stream_set_data(struct h2_stream *s, void *data);
// h2_stream_data returns what h2_stream_set_data attached, or NULL.
void *h2_stream_data(const struct h2_stream *s);

// h2_stream_respond submits the response header section (:status first;
// fields are copied). With end_stream the response is complete; else
// the body follows with h2_stream_write and h2_stream_end. A response that
// completes before the request does is followed by RST_STREAM(NO_ERROR)
// (RFC 9113 §8.1), so the client stops sending the body. It returns 0,
// -EALREADY (already responded), -EINVAL (the stream is being reset, or
// bad arguments) or -ENOMEM.
int h2_stream_respond(struct h2_stream *s, const struct h2_header *h, size_t num,
		      bool end_stream);

// h2_stream_write appends len response body bytes. It returns 0, -EINVAL
// (no response yet, or the body was ended), or -ENOBUFS when more than
// stream_out_max bytes would be buffered: nothing was taken, and on_drain
// will say when the buffer is empty.
int h2_stream_write(struct h2_stream *s, const void *p, size_t len);

// h2_stream_out_space says how many bytes h2_stream_write takes now.
size_t h2_stream_out_space(const struct h2_stream *s);

// h2_stream_end ends the response body once the buffered bytes are sent,
// then sends trailers (copied; num <= H2_MAX_TRAILERS) if num > 0. It
// returns 0, -EINVAL or -ENOMEM.
int h2_stream_end(struct h2_stream *s, const struct h2_header *trailers, size_t num);

// h2_stream_reset sends RST_STREAM with error_code; no further request
// callbacks but on_stream_close follow. It returns 0 or -errno.
int h2_stream_reset(struct h2_stream *s, uint32_t error_code);

// h2_stream_consume says n more request body bytes delivered by on_data
// were passed on (with manual_consume; otherwise it does nothing). Once
// half a window is consumed a WINDOW_UPDATE is queued: call h2_conn_flush
// when calling this outside a callback. n beyond what on_data delivered
// and was not yet consumed is ignored. It may be called from any callback,
// on_stream_close included; s is gone after that.
void h2_stream_consume(struct h2_stream *s, size_t n);

// h2_header_find returns the first field named name (lowercase) in h, or
// NULL.
const struct h2_header *h2_header_find(const struct h2_header *h, size_t num,
				       const char *name);

// h2_header_count returns how many fields named name are in h.
size_t h2_header_count(const struct h2_header *h, size_t num, const char *name);

#endif
