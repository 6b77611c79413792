// SPDX-License-Identifier: Apache-2.0
// h2_internal.h: what the server (h2.c) and client (h2_client.c) codecs
// share on top of nghttp2: one session half and one stream half, with the
// header-section bounds, the buffered body we send, received-byte
// accounting, flood guards and the bounded output. Only proto/h2*.c
// include it; the code lives in h2.c.
#ifndef MG_PROTO_H2_INTERNAL_H
#define MG_PROTO_H2_INTERNAL_H

#include <nghttp2/nghttp2.h>

#include "core/buf.h"
#include "core/list.h"
#include "proto/h2.h"

// Stream flags both codecs use; a codec's own flags start at H2F_CODEC.
enum {
	H2F_DELIVERED = 1u << 0,	// the owner knows the stream: on_stream_close will come
	H2F_REJECTED = 1u << 1,		// no more receive callbacks (reset, or rejected)
	H2F_OVERFLOW = 1u << 2,		// the header section being received broke a limit
	H2F_SENDING = 1u << 3,		// our header section was submitted
	H2F_BODY_ENDED = 1u << 4,	// the owner ended the body we send
	H2F_SENT_END = 1u << 5,		// END_STREAM sent
	H2F_PEER_RESET = 1u << 6,	// RST_STREAM received
	H2F_LOCAL_RESET = 1u << 7,	// the owner (or our answer to it) reset it
	H2F_DEFERRED = 1u << 8,		// the data provider is deferred
	H2F_WANT_DRAIN = 1u << 9,	// call the drain hook when out empties
	H2F_RECV_ENDED = 1u << 10,	// END_STREAM received
	H2F_TRAILERS = 1u << 11,	// receiving the trailer section
	H2F_CLOSING = 1u << 12,		// in on_stream_close: nghttp2 is forgetting it
	H2F_CODEC = 1u << 16,
};

// h2_hoff locates a received field in the stream's hbuf while the section
// is being decoded (hbuf may move as it grows).
struct h2_hoff {
	uint32_t name_off, name_len, value_off, value_len;
};

struct h2_sess;

// h2_half is the per-stream state both codecs keep; each embeds one in its
// stream and registers it as nghttp2's stream user data.
struct h2_half {
	struct list link;		// h2_sess.streams
	struct list drain_link;		// h2_sess.drains, when queued
	struct h2_sess *sess;
	int32_t id;
	uint32_t flags;
	uint32_t rst_code;		// the code of our RST_STREAM, with H2F_REJECTED
	// The header section being received: bounded by max_header_list and
	// max_headers, freed once delivered.
	uint32_t hdr_size;
	uint32_t num_hdrs;
	struct h2_hoff *hoff;
	struct buf hbuf;
	// The body we send not yet taken by nghttp2, at most stream_out_max.
	struct buf out;
	// Trailers we send, "name\0value\0" num_trailers times.
	struct buf tbuf;
	uint32_t num_trailers;
	// Received body bytes delivered to the owner and not yet consumed
	// (manual flow control only).
	size_t unconsumed;
};

// h2_ops are the codec's hooks into the shared code.
struct h2_ops {
	// data passes a received body chunk of a delivered stream on; a
	// negative return resets the stream with INTERNAL_ERROR.
	int (*data)(struct h2_sess *ss, struct h2_half *h, const char *p, size_t len);
	// drain says h's out buffer emptied after a write was refused.
	void (*drain)(struct h2_sess *ss, struct h2_half *h);
};

// h2_sess is the per-connection state both codecs keep; it is nghttp2's
// session user data.
enum { H2_ID_WINDOW = 8192 };	// ids (odd or even: 4096 streams) remembered

struct h2_sess {
	nghttp2_session *session;
	const struct h2_ops *ops;
	struct h2_config cfg;
	struct h2_stats stats;
	struct list streams;		// h2_half.link
	struct list drains;		// h2_half.drain_link
	struct h2_header *scratch;	// max_headers fields, for delivery
	uint32_t empty_run;		// consecutive empty DATA frames
	int err;			// sticky: the connection must close
	bool dead;			// nghttp2 failed fatally: never call it again
	bool manual;			// no automatic WINDOW_UPDATE
	bool settings_acked;
	bool peer_settings;		// the peer's first SETTINGS arrived
	bool owner_goaway;		// the next error GOAWAY is the owner's
	bool server;
	// The peer's stream ids we saw opened, for the last H2_ID_WINDOW ids
	// below peer_max_id (a bit per odd or even id): a HEADERS on a lower
	// id that was never opened is a connection error (RFC 9113 5.1.1),
	// which nghttp2 leaves unchecked once it forgot the id.
	int32_t peer_max_id;
	uint64_t opened[H2_ID_WINDOW / 128];
};

// h2_errno translates an nghttp2 error code to -errno.
int h2_errno(int rv);

// h2_sess_init prepares ss with cfg (NULL: defaults) and ops. It returns 0
// or -ENOMEM; h2_sess_cleanup undoes it.
int h2_sess_init(struct h2_sess *ss, const struct h2_config *cfg, const struct h2_ops *ops);

// h2_sess_start adds the shared callbacks to cbs (the codec's own are
// already set) and creates the nghttp2 session with our options. It
// returns 0 or -errno.
int h2_sess_start(struct h2_sess *ss, nghttp2_session_callbacks *cbs, bool server);

// h2_sess_settings submits iv and raises the connection window to
// conn_window. It returns 0 or -errno.
int h2_sess_settings(struct h2_sess *ss, const nghttp2_settings_entry *iv, size_t num);

// h2_sess_cleanup frees the session; the codec freed its streams first.
void h2_sess_cleanup(struct h2_sess *ss);

// h2_sess_flush, h2_sess_input and h2_sess_want_close implement the
// h2_conn_* functions of the same names for both codecs.
int h2_sess_flush(struct h2_sess *ss, struct buf *out);
int h2_sess_input(struct h2_sess *ss, const char *p, size_t len, struct buf *out);
bool h2_sess_want_close(const struct h2_sess *ss);

// h2_sess_terminate sends GOAWAY(code) and ends the session once it is out.
void h2_sess_terminate(struct h2_sess *ss, uint32_t code);

// h2_sess_goaway is the owner's GOAWAY (h2_conn_goaway, h2c_conn_goaway):
// with H2_NO_ERROR it names the last stream processed and lets open
// streams complete; any other code terminates the session, and is not
// counted as the peer's protocol error. It returns 0 or -errno.
int h2_sess_goaway(struct h2_sess *ss, uint32_t error_code);

// h2_sess_frame_recv counts a received frame and applies the flood guards
// (empty DATA, WINDOW_UPDATE churn); the codec's own on_frame_recv calls
// it first.
void h2_sess_frame_recv(struct h2_sess *ss, const nghttp2_frame *frame);

// h2_sess_frame_sent counts a sent frame; the codec's on_frame_send calls it.
void h2_sess_frame_sent(struct h2_sess *ss, const nghttp2_frame *frame);

// h2_half_of returns the stream half registered for id, or NULL.
struct h2_half *h2_half_of(const struct h2_sess *ss, int32_t id);

// h2_half_init links h (zeroed by the caller) into ss.
void h2_half_init(struct h2_half *h, struct h2_sess *ss, int32_t id);

// h2_half_cleanup unlinks h and frees its buffers, not h itself.
void h2_half_cleanup(struct h2_half *h);

// h2_half_hdr_reset forgets a header section once delivered or abandoned.
void h2_half_hdr_reset(struct h2_half *h);

// h2_half_hdr_list returns the received section as fields in the session's
// scratch array (valid until the next section is delivered).
const struct h2_header *h2_half_hdr_list(struct h2_half *h);

// h2_half_reject stops receive callbacks for h and resets it with code.
void h2_half_reject(struct h2_half *h, uint32_t code);

// h2_half_fail resets a stream whose owner callback returned an error.
void h2_half_fail(struct h2_half *h);

// h2_half_reset is the owner's reset (h2_stream_reset, h2c_stream_reset).
int h2_half_reset(struct h2_half *h, uint32_t code);

// h2_half_provider returns the data provider that sends h's out buffer
// and then its trailers.
nghttp2_data_provider h2_half_provider(struct h2_half *h);

// h2_half_write, h2_half_out_space and h2_half_end implement the body and
// trailer calls of both codecs once our header section was submitted.
int h2_half_write(struct h2_half *h, const void *p, size_t len);
size_t h2_half_out_space(const struct h2_half *h);
int h2_half_end(struct h2_half *h, const struct h2_header *trailers, size_t num);

// h2_half_consume says n received bytes were passed on (manual flow
// control): WINDOW_UPDATEs may follow.
void h2_half_consume(struct h2_half *h, size_t n);

// h2_half_closed credits the connection window with what the owner left
// unconsumed; the codec calls it as the stream closes.
void h2_half_closed(struct h2_half *h);

// h2_nv_new converts num fields for nghttp2 (names and values are
// borrowed): into stack when num <= stack_num, else a new array the caller
// frees. It returns NULL when out of memory.
nghttp2_nv *h2_nv_new(const struct h2_header *h, size_t num, nghttp2_nv *stack,
		      size_t stack_num);

#endif
