// SPDX-License-Identifier: Apache-2.0
// accesslog.c: Envoy's default TEXT access-log line as Istio configures it.
// Field values are escaped nginx-style (\xHH) so no value can end its field.
#include "accesslog.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "core/buf.h"
#include "core/json.h"

// civil_from_days converts days since 1970-01-01 to a proleptic Gregorian
// date (Howard Hinnant's algorithm), so formatting needs no libc time zone
// state on a worker.
static void civil_from_days(uint64_t days, unsigned *y, unsigned *m, unsigned *d)
{
	uint64_t z = days + 719468;	// days since 0000-03-01
	uint64_t era = z / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (unsigned)(yoe + era * 400) + (*m <= 2);
}

static void put2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

// format_time writes "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 bytes) for ns since the
// epoch, as Envoy's %START_TIME% default (%Y-%m-%dT%H:%M:%E3SZ) does.
static void format_time(char out[24], uint64_t ns)
{
	uint64_t s = ns / 1000000000u;
	unsigned ms = (unsigned)(ns / 1000000u % 1000), sod = (unsigned)(s % 86400);
	unsigned y, mo, d;

	civil_from_days(s / 86400, &y, &mo, &d);
	put2(out, y / 100);
	put2(out + 2, y % 100);
	out[4] = '-';
	put2(out + 5, mo);
	out[7] = '-';
	put2(out + 8, d);
	out[10] = 'T';
	put2(out + 11, sod / 3600);
	out[13] = ':';
	put2(out + 14, sod / 60 % 60);
	out[16] = ':';
	put2(out + 17, sod % 60);
	out[19] = '.';
	out[20] = (char)('0' + ms / 100);
	put2(out + 21, ms % 100);
	out[23] = 'Z';
}

size_t accesslog_format_addr(char *out, size_t out_len, const struct sockaddr_storage *ss)
{
	char ip[INET6_ADDRSTRLEN];
	const struct sockaddr_un *sun;
	int n = -1;

	if (!out_len)
		return 0;
	if (ss && ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		if (inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip)))
			n = snprintf(out, out_len, "%s:%u", ip, ntohs(sin->sin_port));
	} else if (ss && ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		if (inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip)))
			n = snprintf(out, out_len, "[%s]:%u", ip, ntohs(sin6->sin6_port));
	} else if (ss && ss->ss_family == AF_UNIX) {
		// Envoy prints a pipe's path, "@name" for the abstract namespace.
		sun = (const struct sockaddr_un *)ss;
		if (sun->sun_path[0])
			n = snprintf(out, out_len, "%.*s", (int)sizeof(sun->sun_path),
				     sun->sun_path);
		else
			n = snprintf(out, out_len, "@%.*s", (int)sizeof(sun->sun_path) - 1,
				     sun->sun_path + 1);
	}
	if (n < 0)
		n = snprintf(out, out_len, "-");
	return (size_t)n < out_len ? (size_t)n : out_len - 1;
}

// escape appends s[0..len), "-" when s is NULL or empty. '"', '\\', control
// characters (C0, DEL, C1) and bytes that are not valid UTF-8 become \xHH,
// as nginx's escape=default does; so does ' ' outside quotes, where it would
// split the field. A quoted value thus never holds a '"', and a line never
// holds a newline, whatever a client sends.
static int escape(struct buf *b, const char *s, size_t len, int quoted)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i = 0, run = 0, n, k;
	char esc[16];
	unsigned char c;
	int err = 0, bad;

	if (!s || !len)
		return buf_append(b, "-", 1);
	while (i < len) {
		c = (unsigned char)s[i];
		n = 1;
		if (c >= 0x80) {
			n = json_utf8_len(s + i, len - i);
			// C1 controls (U+0080..U+009F) move terminals like C0 does.
			bad = !n || (c == 0xc2 && (unsigned char)s[i + 1] < 0xa0);
			if (!n)
				n = 1;
		} else {
			bad = c < 0x20 || c == 0x7f || c == '"' || c == '\\' ||
			      (c == ' ' && !quoted);
		}
		if (bad) {
			for (k = 0; k < n; k++) {
				c = (unsigned char)s[i + k];
				esc[4 * k] = '\\';
				esc[4 * k + 1] = 'x';
				esc[4 * k + 2] = hex[c >> 4];
				esc[4 * k + 3] = hex[c & 15];
			}
			err |= buf_append(b, s + run, i - run);
			err |= buf_append(b, esc, 4 * n);
			run = i + n;
		}
		i += n;
	}
	err |= buf_append(b, s + run, len - run);
	return err;
}

static int escape_cstr(struct buf *b, const char *s, int quoted)
{
	return escape(b, s, s ? strlen(s) : 0, quoted);
}

static int quoted(struct buf *b, const char *s, size_t len)
{
	return buf_append(b, "\"", 1) | escape(b, s, len, 1) | buf_append(b, "\"", 1);
}

static int opt_num(struct buf *b, int64_t v)
{
	return v < 0 ? buf_append(b, "-", 1) : json_append_i64(b, v);
}

static int addr(struct buf *b, const struct sockaddr_storage *ss, int in_quotes)
{
	char tmp[128];
	size_t n = accesslog_format_addr(tmp, sizeof(tmp), ss);

	return in_quotes ? quoted(b, tmp, n) : escape(b, tmp, n, 0);
}

int accesslog_format(struct buf *out, const struct accesslog_entry *e)
{
	size_t start = out->len;
	char ts[24];
	int err = 0;

	// One reservation covers a typical line; escaping may still grow it.
	err |= buf_reserve(out, 512 + e->path_len + e->user_agent_len + e->xff_len +
				e->authority_len + e->request_id_len);
	format_time(ts, e->start_time_ns);
	err |= buf_append(out, "[", 1);
	err |= buf_append(out, ts, sizeof(ts));
	err |= buf_append(out, "] \"", 3);
	err |= escape(out, e->method, e->method_len, 1);
	err |= buf_append(out, " ", 1);
	err |= escape(out, e->path, e->path_len, 1);
	err |= buf_append(out, " ", 1);
	err |= escape_cstr(out, e->protocol, 1);
	err |= buf_append(out, "\" ", 2);
	err |= opt_num(out, e->response_code);
	err |= buf_append(out, " ", 1);
	err |= escape_cstr(out, e->response_flags, 0);
	err |= buf_append(out, " ", 1);
	err |= escape_cstr(out, e->response_code_details, 0);
	err |= buf_append(out, " ", 1);
	err |= escape_cstr(out, e->termination_details, 0);
	err |= buf_append(out, " ", 1);
	err |= quoted(out, e->upstream_failure, e->upstream_failure ? strlen(e->upstream_failure) : 0);
	err |= buf_append(out, " ", 1);
	err |= json_append_u64(out, e->bytes_received);
	err |= buf_append(out, " ", 1);
	err |= json_append_u64(out, e->bytes_sent);
	err |= buf_append(out, " ", 1);
	err |= opt_num(out, e->duration_ms);
	err |= buf_append(out, " ", 1);
	err |= opt_num(out, e->upstream_service_time_ms);
	err |= buf_append(out, " ", 1);
	err |= quoted(out, e->xff, e->xff_len);
	err |= buf_append(out, " ", 1);
	err |= quoted(out, e->user_agent, e->user_agent_len);
	err |= buf_append(out, " ", 1);
	err |= quoted(out, e->request_id, e->request_id_len);
	err |= buf_append(out, " ", 1);
	err |= quoted(out, e->authority, e->authority_len);
	err |= buf_append(out, " ", 1);
	err |= addr(out, &e->upstream_host, 1);
	err |= buf_append(out, " ", 1);
	err |= escape_cstr(out, e->upstream_cluster, 0);
	err |= buf_append(out, " ", 1);
	err |= addr(out, &e->upstream_local, 0);
	err |= buf_append(out, " ", 1);
	err |= addr(out, &e->downstream_local, 0);
	err |= buf_append(out, " ", 1);
	err |= addr(out, &e->downstream_remote, 0);
	err |= buf_append(out, " ", 1);
	err |= escape_cstr(out, e->requested_server_name, 0);
	err |= buf_append(out, " ", 1);
	err |= escape_cstr(out, e->route_name, 0);
	err |= buf_append(out, "\n", 1);
	if (err) {
		out->len = start;	// never a partial line
		return -ENOMEM;
	}
	return 0;
}
