// SPDX-License-Identifier: Apache-2.0
// grpc.h: gRPC over HTTP/2 framing, as the gRPC PROTOCOL-HTTP2 spec puts it:
// length-prefixed messages (an incremental deframer, bytes split anywhere),
// status codes and their names, grpc-timeout, grpc-message percent-encoding
// and the trailers that end a call. No I/O and no HTTP/2: proto/h2 carries
// the bytes; only struct h2_header is borrowed from it.
#ifndef MG_PROTO_GRPC_H
#define MG_PROTO_GRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"
#include "proto/h2.h"

enum {
	GRPC_PREFIX_LEN = 5,			// compressed flag + 32-bit big-endian length
	GRPC_MAX_MSG = 4 * 1024 * 1024,		// grpc's default receive limit
	GRPC_TIMEOUT_MAX_DIGITS = 8,
};

// grpc_status is the canonical status code set (google.rpc.Code).
enum grpc_status {
	GRPC_OK = 0,
	GRPC_CANCELLED = 1,
	GRPC_UNKNOWN = 2,
	GRPC_INVALID_ARGUMENT = 3,
	GRPC_DEADLINE_EXCEEDED = 4,
	GRPC_NOT_FOUND = 5,
	GRPC_ALREADY_EXISTS = 6,
	GRPC_PERMISSION_DENIED = 7,
	GRPC_RESOURCE_EXHAUSTED = 8,
	GRPC_FAILED_PRECONDITION = 9,
	GRPC_ABORTED = 10,
	GRPC_OUT_OF_RANGE = 11,
	GRPC_UNIMPLEMENTED = 12,
	GRPC_INTERNAL = 13,
	GRPC_UNAVAILABLE = 14,
	GRPC_DATA_LOSS = 15,
	GRPC_UNAUTHENTICATED = 16,
	GRPC_NUM_STATUS = 17,
};

// grpc_status_name returns "OK", "CANCELLED", ... "UNAUTHENTICATED", or
// NULL for a code outside the set.
const char *grpc_status_name(int code);

// grpc_status_parse reads a grpc-status value (decimal, 1-3 digits, no sign
// or spaces) into *out. Codes outside the set are kept: clients map them to
// UNKNOWN. It returns 0 or -EINVAL.
int grpc_status_parse(const char *s, size_t len, int *out);

// grpc_status_of maps a deframer or parser errno to the status grpc-go
// answers with: -ENOTSUP (compressed message, no encoding negotiated)
// UNIMPLEMENTED, -EMSGSIZE and -ENOMEM RESOURCE_EXHAUSTED, -ETIMEDOUT
// DEADLINE_EXCEEDED, anything else INTERNAL.
enum grpc_status grpc_status_of(int err);

// grpc_content_type_ok says whether a content-type names gRPC:
// "application/grpc", optionally followed by "+subtype" or ";params".
bool grpc_content_type_ok(const char *v, size_t len);

// grpc_prefix writes the 5-byte message prefix for an uncompressed message
// of len bytes. It returns 0, or -EMSGSIZE beyond 4 GiB - 1.
int grpc_prefix(uint8_t out[GRPC_PREFIX_LEN], size_t len);

// grpc_frame appends one uncompressed length-prefixed message to out. It
// returns 0, -EMSGSIZE or -ENOMEM.
int grpc_frame(struct buf *out, const void *msg, size_t len);

// grpc_deframer reassembles length-prefixed messages from a byte stream.
struct grpc_deframer {
	uint32_t max_msg;	// larger messages: -EMSGSIZE
	uint32_t msg_len;	// length of the message in progress (once hdr is complete)
	uint8_t hdr[GRPC_PREFIX_LEN];
	uint8_t hdr_len;	// prefix bytes seen
	int err;		// sticky: the stream is unusable after an error
	uint64_t num_msgs;	// messages completed
	struct buf msg;		// a message's bytes when it arrives in pieces
};

// grpc_deframer_init prepares d; max_msg 0 means GRPC_MAX_MSG.
void grpc_deframer_init(struct grpc_deframer *d, uint32_t max_msg);
// grpc_deframer_cleanup frees d's buffer; d can be initialized again.
void grpc_deframer_cleanup(struct grpc_deframer *d);

// grpc_deframe consumes p[0..len) up to the end of the first message it
// completes and returns the bytes consumed; call again with the rest. When
// a message is complete *msg/*msg_len point at it (into p, or into d's
// buffer), valid until the next call and while p is; otherwise *msg is NULL.
// Errors (sticky): -ENOTSUP for the compressed flag (no grpc-encoding is
// accepted), -EBADMSG for a flag other than 0 or 1, -EMSGSIZE beyond
// max_msg (before buffering any of it), -ENOMEM.
ssize_t grpc_deframe(struct grpc_deframer *d, const char *p, size_t len, const char **msg,
		     size_t *msg_len);

// grpc_deframer_idle says no message is partly received: at the end of the
// stream anything else is a truncated message (INTERNAL).
bool grpc_deframer_idle(const struct grpc_deframer *d);

// grpc_timeout_parse reads a grpc-timeout value: 1 to 8 ASCII digits and a
// unit, H M S m u n (hours to nanoseconds), into nanoseconds, saturating at
// INT64_MAX. It returns 0 or -EINVAL.
int grpc_timeout_parse(const char *s, size_t len, int64_t *out_ns);

// grpc_timeout_format writes ns (>= 0) as a grpc-timeout value with the
// finest unit that fits in 8 digits, rounding up, NUL-terminated. It
// returns the length.
int grpc_timeout_format(char out[GRPC_TIMEOUT_MAX_DIGITS + 2], int64_t ns);

// grpc_message_encode appends msg percent-encoded for grpc-message: bytes
// outside 0x20-0x7E, and '%', become "%XX" (uppercase hex). It returns 0 or
// -ENOMEM.
int grpc_message_encode(struct buf *out, const char *msg, size_t len);

// grpc_message_decode appends the decoded form of a grpc-message value. As
// the spec requires, malformed escapes are kept as they are, never an
// error. It returns 0 or -ENOMEM.
int grpc_message_decode(struct buf *out, const char *s, size_t len);

// grpc_trailers holds the fields that end a call: grpc-status and, when
// there is a message, grpc-message (percent-encoded). h[0..num) point into
// the struct: keep it in place while they are used.
struct grpc_trailers {
	char status[4];
	struct buf message;
	struct h2_header h[2];
	size_t num;
};

// grpc_trailers_build fills t for code and msg (NULL or empty: no
// grpc-message). It returns 0, -EINVAL for a code outside 0..16, or
// -ENOMEM. Release with grpc_trailers_cleanup.
int grpc_trailers_build(struct grpc_trailers *t, enum grpc_status code, const char *msg,
			size_t msg_len);
// grpc_trailers_cleanup frees what grpc_trailers_build allocated.
void grpc_trailers_cleanup(struct grpc_trailers *t);

#endif
