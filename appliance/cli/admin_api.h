// SPDX-License-Identifier: Apache-2.0
// admin_api.h: the CLI's side of a running meshgate's admin API (loopback
// :15000): a small blocking HTTP/1.1 GET (one connection per request, a
// deadline enforced with socket timeouts; this is a command-line tool, not
// the data plane), its JSON read into config/yaml.h's node tree, typed
// access to the fields with errors that say where, and JSON printed back
// indented as istioctl's -o json does.
#ifndef MG_CLI_ADMIN_API_H
#define MG_CLI_ADMIN_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config/yaml.h"

struct buf;

enum {
	ADMIN_API_TIMEOUT_MS = 10000,		// per request, connect to last byte
	ADMIN_API_MAX_BODY = YTREE_MAX_FILE,	// what json_tree_parse accepts
	ADMIN_API_DEFAULT_PORT = 15000,
};

struct admin_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	char text[80];		// "127.0.0.1:15000", "[::1]:15000": for messages
	char host[80];		// the Host header's value
};

// admin_addr_parse reads HOST:PORT, [IPV6]:PORT or a bare PORT (then
// 127.0.0.1) into *out. HOST is a numeric address or "localhost" (as
// 127.0.0.1): meshgate resolves no names outside c-ares. It returns 0 or
// -EINVAL.
int admin_addr_parse(struct admin_addr *out, const char *s);

// admin_get sends `GET path` to a and reads the answer, the whole exchange
// within timeout_ms. The head is parsed strictly (proto/h1.h) and the body
// de-chunked; a head over H1_MAX_HEAD_BYTES or a body over
// ADMIN_API_MAX_BODY is refused. It returns the HTTP status (200..599) with
// the body appended to out_body, or -errno with the reason in err:
// connect's error (-ECONNREFUSED, ...), -ETIMEDOUT, -EBADMSG for an answer
// that is not well-formed HTTP/1.1, -EFBIG, -ENOMEM.
int admin_get(const struct admin_addr *a, const char *path, int timeout_ms,
	      struct buf *out_body, char *err, size_t err_len);

// admin_get_json is admin_get wanting a 200 with a JSON body, parsed into
// *t (released with yaml_tree_free in every case). *out_status (may be
// NULL) gets the status, or 0 when no answer came. It returns 0; -EIO for
// another status (err quotes the body's first line); -EBADMSG when the body
// is not JSON; or admin_get's error. err says what failed and why, starting
// with "GET http://ADDR/PATH".
int admin_get_json(const struct admin_addr *a, const char *path, struct yaml_tree *t,
		   int *out_status, char *err, size_t err_len);

// Typed access to a JSON object's fields. where names the object in
// messages ("/config_dump: clusters[3]"). A field that is absent or null
// is an error when required, else it gives NULL (strings, arrays,
// objects), 0 or false. Each returns 0 or -EBADMSG with "WHERE.KEY: want
// a string" (and the like) in err. Nodes and strings belong to the tree.

// api_want_map checks that n is an object: 0 or -EBADMSG ("WHERE: want an
// object").
int api_want_map(const struct ynode *n, const char *where, char *err, size_t err_len);

int api_str(const struct ynode *obj, const char *where, const char *key, bool required,
	    const char **out, char *err, size_t err_len);
// api_uint also refuses a value above max.
int api_uint(const struct ynode *obj, const char *where, const char *key, bool required,
	     uint64_t max, uint64_t *out, char *err, size_t err_len);
int api_bool(const struct ynode *obj, const char *where, const char *key, bool required,
	     bool *out, char *err, size_t err_len);
int api_seq(const struct ynode *obj, const char *where, const char *key, bool required,
	    const struct ynode **out, char *err, size_t err_len);
int api_map(const struct ynode *obj, const char *where, const char *key, bool required,
	    const struct ynode **out, char *err, size_t err_len);

// api_json_write appends n as JSON indented by four spaces a level
// (json.MarshalIndent's "    "), starting at indentation level depth and
// without a final newline. Strings are escaped as core/json.h does. It
// returns 0 or -ENOMEM.
int api_json_write(struct buf *out, const struct ynode *n, int depth);

// api_json_indent appends the line break and indentation of level depth.
int api_json_indent(struct buf *out, int depth);

#endif
