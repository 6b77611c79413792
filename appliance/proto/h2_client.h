// SPDX-License-Identifier: Apache-2.0
// h2_client.h: the HTTP/2 client-side codec on nghttp2, transport-free, for
// upstream connections. The owner feeds received (decrypted) bytes in and
// sends what comes out in a struct buf, as with h2.h. It opens request
// streams, sends their bodies from a bounded per-stream buffer and gets
// validated response headers, body chunks and trailers back through
// callbacks. Flow control is manual: response bytes hold the receive
// windows (initial_window per stream, conn_window per connection) until
// the owner says it passed them on, so a slow reader downstream slows the
// upstream server and no body is ever buffered whole.
//
// The peer is not trusted: the response header section is bounded
// (max_header_list, max_headers; the stream is reset and the overflow
// counted), as are CONTINUATION frames, SETTINGS/PING ACKs queued
// (flood), empty DATA frames, WINDOW_UPDATE churn, interim (1xx) sections
// and our output (out_highwat). Server push is off (SETTINGS_ENABLE_PUSH=0)
// and a PUSH_PROMISE is a connection PROTOCOL_ERROR.
//
// Threading: one h2c_conn belongs to one thread. No callback is
// re-entered: the owner may call any h2c_stream_* and h2c_conn_* function
// from inside a callback except h2c_conn_input, h2c_conn_flush and
// h2c_conn_free. Functions that submit frames outside a callback
// (h2c_stream_open, _write, _end, _reset, _consume, h2c_conn_goaway) need
// an h2c_conn_flush afterwards.
#ifndef MG_PROTO_H2_CLIENT_H
#define MG_PROTO_H2_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "proto/h2.h"

enum {
	H2C_MAX_INTERIM = 8,		// 1xx sections per response, then the stream is reset
};

struct h2c_conn;
struct h2c_stream;

// h2c_callbacks are the owner's per-stream hooks; arg is the pointer given
// to h2c_conn_new. Callbacks returning int return 0, or a negative errno to
// reset the stream with INTERNAL_ERROR. on_headers and on_stream_close are
// required. Field arrays and their strings are valid during the call only;
// fields are NUL-terminated, names lowercase, and nghttp2 validated the
// section (RFC 9113 §8.3.2: :status first and alone among pseudo-headers,
// no connection-specific fields, content-length consistent with the DATA).
struct h2c_callbacks {
	// on_headers delivers the final (non-1xx) response header section,
	// :status first. end_stream says the response has no body
	// (on_end_stream follows anyway).
	int (*on_headers)(void *arg, struct h2c_stream *s, const struct h2_header *h,
			  size_t num, bool end_stream);
	// on_interim delivers a 1xx section (e.g. 100 Continue, 103 Early
	// Hints); NULL drops them. More than H2C_MAX_INTERIM on one stream
	// reset it (PROTOCOL_ERROR).
	int (*on_interim)(void *arg, struct h2c_stream *s, const struct h2_header *h,
			  size_t num);
	// on_data delivers a chunk of the response body (at most one DATA
	// frame's payload). It holds the windows until passed to
	// h2c_stream_consume. NULL: bytes are consumed and dropped.
	int (*on_data)(void *arg, struct h2c_stream *s, const char *p, size_t len);
	// on_trailers delivers the response trailers (on_end_stream follows).
	// NULL: trailers are dropped.
	int (*on_trailers)(void *arg, struct h2c_stream *s, const struct h2_header *h,
			   size_t num);
	// on_end_stream says the response is complete. If the request body
	// is still being sent, the owner ends or resets the stream; the
	// server may also stop it with RST_STREAM(NO_ERROR) (RFC 9113 §8.1).
	int (*on_end_stream)(void *arg, struct h2c_stream *s);
	// on_stream_close is called once for every stream h2c_stream_open
	// returned, when the codec forgets it; s is freed when it returns.
	// error_code is:
	//  - H2_NO_ERROR: the response was complete (on_end_stream came);
	//  - H2_REFUSED_STREAM: the server did not process the request, so
	//    it may be retried (RFC 9113 §8.7): RST_STREAM(REFUSED_STREAM),
	//    a stream above the last_stream_id of the server's GOAWAY, or a
	//    request that never left (GOAWAY, stream ids exhausted,
	//    h2c_conn_free before it was sent). Retry only if nothing of the
	//    response was passed on;
	//  - anything else: the stream failed and may have been processed
	//    (H2_CANCEL after h2c_conn_free or an early close without error,
	//    the peer's or our reset code otherwise).
	void (*on_stream_close)(void *arg, struct h2c_stream *s, uint32_t error_code);
	// on_drain says s's request body buffer is empty again after an
	// h2c_stream_write returned -ENOBUFS: write more now.
	void (*on_drain)(void *arg, struct h2c_stream *s);
	// on_goaway says the server sent GOAWAY: no new streams; streams up
	// to last_stream_id may still complete. It comes before the streams
	// above last_stream_id are closed with H2_REFUSED_STREAM. Optional.
	void (*on_goaway)(void *arg, int32_t last_stream_id, uint32_t error_code);
};

// h2c_conn_new starts a client session: it appends the client preface and
// our SETTINGS (push off, initial_window, header_table, max_header_list,
// no RFC 7540 priorities) plus the connection WINDOW_UPDATE to out. cfg
// may be NULL for h2_config_default's values; max_concurrent_streams caps
// our open streams, max_premature_resets is unused and flow control is
// always manual (manual_consume is ignored). cb and arg are borrowed and
// must outlive the connection. It returns NULL when out of memory.
struct h2c_conn *h2c_conn_new(const struct h2_config *cfg, const struct h2c_callbacks *cb,
			      void *arg, struct buf *out);

// h2c_conn_input feeds received bytes (any split), runs the callbacks and
// appends what must be sent to out. It returns 0 while the session goes
// on; else the connection must be closed once out is flushed: -EPROTO (the
// server broke the protocol: bad preface, flood, push, a connection error;
// a GOAWAY is in out when one can be sent), -ESHUTDOWN (the session ended:
// GOAWAY exchanged and no stream left), -ENOMEM.
int h2c_conn_input(struct h2c_conn *c, const char *p, size_t len, struct buf *out);

// h2c_conn_flush appends pending frames to out, at most until out holds
// out_highwat bytes: call it after submitting outside a callback and after
// sending part of out. It returns as h2c_conn_input does.
int h2c_conn_flush(struct h2c_conn *c, struct buf *out);

// h2c_conn_want_close says nghttp2 has nothing more to read or write.
bool h2c_conn_want_close(const struct h2c_conn *c);

// h2c_conn_can_open says whether h2c_stream_open would open a stream: not
// after a GOAWAY either way or a connection error, not once the open
// streams reach min(the server's SETTINGS_MAX_CONCURRENT_STREAMS, our
// max_concurrent_streams), not when stream ids are exhausted.
bool h2c_conn_can_open(const struct h2c_conn *c);

// h2c_conn_open_streams returns how many streams are open: returned by
// h2c_stream_open and not yet passed to on_stream_close.
uint32_t h2c_conn_open_streams(const struct h2c_conn *c);

// h2c_conn_peer_max_streams returns the server's
// SETTINGS_MAX_CONCURRENT_STREAMS (100 until its SETTINGS arrive).
uint32_t h2c_conn_peer_max_streams(const struct h2c_conn *c);

// h2c_conn_peer_settings says the server's first SETTINGS arrived (its
// limits, SETTINGS_MAX_CONCURRENT_STREAMS above all, are known).
bool h2c_conn_peer_settings(const struct h2c_conn *c);

// h2c_conn_settings_acked says the server acknowledged our SETTINGS; the
// owner closes connections that have not done so within 10 s.
bool h2c_conn_settings_acked(const struct h2c_conn *c);

// h2c_conn_goaway sends GOAWAY with error_code. With H2_NO_ERROR no new
// stream opens and open streams may complete, then the session ends;
// any other code ends the session once the GOAWAY is sent. It returns 0
// or -errno.
int h2c_conn_goaway(struct h2c_conn *c, uint32_t error_code);

// h2c_conn_stats returns the connection's counters (borrowed); streams
// counts the streams we opened, resets_* and goaway_* both ways,
// unprocessed the streams closed with H2_REFUSED_STREAM.
const struct h2_stats *h2c_conn_stats(const struct h2c_conn *c);

// h2c_conn_free releases the session. It first calls on_stream_close for
// every stream still open: H2_REFUSED_STREAM for a request whose HEADERS
// never left the codec, H2_CANCEL otherwise. h2c_stream_open fails from
// then on. NULL is a no-op.
void h2c_conn_free(struct h2c_conn *c);

// h2c_stream_open submits a request: h (copied) is its header section,
// pseudo-headers first (:method, :scheme, :authority, :path; names
// lowercase), data the owner's per-stream state. With end_stream the
// request has no body; else it follows with h2c_stream_write and
// h2c_stream_end. It returns the stream, or NULL with errno EAGAIN (not
// h2c_conn_can_open), EINVAL (no fields) or ENOMEM.
struct h2c_stream *h2c_stream_open(struct h2c_conn *c, const struct h2_header *h,
				   size_t num, bool end_stream, void *data);

// h2c_stream_write appends len request body bytes. It returns 0, -EINVAL
// (opened with end_stream, or the body was ended), or -ENOBUFS when more
// than stream_out_max bytes would be buffered: nothing was taken, and
// on_drain will say when the buffer is empty.
int h2c_stream_write(struct h2c_stream *s, const void *p, size_t len);

// h2c_stream_out_space says how many bytes h2c_stream_write takes now.
size_t h2c_stream_out_space(const struct h2c_stream *s);

// h2c_stream_end ends the request body once the buffered bytes are sent,
// then sends trailers (copied; num <= H2_MAX_TRAILERS) if num > 0. It
// returns 0, -EINVAL or -ENOMEM.
int h2c_stream_end(struct h2c_stream *s, const struct h2_header *trailers, size_t num);

// h2c_stream_reset sends RST_STREAM with error_code (H2_CANCEL when the
// owner gives up); no further response callbacks but on_stream_close, with
// that code, follow. It returns 0 or -errno.
int h2c_stream_reset(struct h2c_stream *s, uint32_t error_code);

// h2c_stream_consume says n more response body bytes delivered by on_data
// were passed on. Once half a window is consumed a WINDOW_UPDATE is
// queued. n beyond what was delivered and not yet consumed is ignored;
// what is unconsumed when the stream closes goes back to the connection
// window.
void h2c_stream_consume(struct h2c_stream *s, size_t n);

// h2c_stream_data returns the data given to h2c_stream_open.
void *h2c_stream_data(const struct h2c_stream *s);

// h2c_stream_set_data replaces the owner's per-stream state.
void h2c_stream_set_data(struct h2c_stream *s, void *data);

// h2c_stream_id returns the stream's identifier (odd, increasing).
int32_t h2c_stream_id(const struct h2c_stream *s);

#endif
