// SPDX-License-Identifier: Apache-2.0
// metrics.c: Istio's standard metrics and meshgate's own counters, kept per
// worker without locks or atomic RMWs, summed across workers at scrape time.
#include "metrics.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/buf.h"
#include "core/hash.h"
#include "core/json.h"

const char *const istio_label_names[IL_COUNT] = {
	[IL_REPORTER] = "reporter",
	[IL_SOURCE_WORKLOAD] = "source_workload",
	[IL_SOURCE_CANONICAL_SERVICE] = "source_canonical_service",
	[IL_SOURCE_CANONICAL_REVISION] = "source_canonical_revision",
	[IL_SOURCE_WORKLOAD_NAMESPACE] = "source_workload_namespace",
	[IL_SOURCE_PRINCIPAL] = "source_principal",
	[IL_SOURCE_APP] = "source_app",
	[IL_SOURCE_VERSION] = "source_version",
	[IL_SOURCE_CLUSTER] = "source_cluster",
	[IL_DESTINATION_WORKLOAD] = "destination_workload",
	[IL_DESTINATION_WORKLOAD_NAMESPACE] = "destination_workload_namespace",
	[IL_DESTINATION_PRINCIPAL] = "destination_principal",
	[IL_DESTINATION_APP] = "destination_app",
	[IL_DESTINATION_VERSION] = "destination_version",
	[IL_DESTINATION_SERVICE] = "destination_service",
	[IL_DESTINATION_CANONICAL_SERVICE] = "destination_canonical_service",
	[IL_DESTINATION_CANONICAL_REVISION] = "destination_canonical_revision",
	[IL_DESTINATION_SERVICE_NAME] = "destination_service_name",
	[IL_DESTINATION_SERVICE_NAMESPACE] = "destination_service_namespace",
	[IL_DESTINATION_CLUSTER] = "destination_cluster",
	[IL_REQUEST_PROTOCOL] = "request_protocol",
	[IL_RESPONSE_CODE] = "response_code",
	[IL_GRPC_RESPONSE_STATUS] = "grpc_response_status",
	[IL_RESPONSE_FLAGS] = "response_flags",
	[IL_CONNECTION_SECURITY_POLICY] = "connection_security_policy",
};

// Envoy's names where Envoy has one (downstream_cx_total, upstream_rq_retry,
// ...); "downstream_rq_<why>" for requests meshgate answered itself.
const char *const mg_counter_names[MC_COUNT] = {
	[MC_ACCEPTED] = "downstream_cx_total",
	[MC_ACCEPT_ERRORS] = "downstream_cx_accept_error",
	[MC_DOWNSTREAM_ACTIVE] = "downstream_cx_active",
	[MC_UPSTREAM_CONNECT] = "upstream_cx_total",
	[MC_UPSTREAM_CONNECT_FAIL] = "upstream_cx_connect_fail",
	[MC_UPSTREAM_OVERFLOW] = "upstream_rq_pending_overflow",
	[MC_UPSTREAM_REUSED] = "upstream_rq_pool_reused",
	[MC_UPSTREAM_ACTIVE] = "upstream_cx_active",
	[MC_RQ_TOTAL] = "downstream_rq_total",
	[MC_RQ_400] = "downstream_rq_400",
	[MC_RQ_413] = "downstream_rq_413",
	[MC_RQ_414] = "downstream_rq_414",
	[MC_RQ_431] = "downstream_rq_431",
	[MC_RQ_501] = "downstream_rq_501",
	[MC_RQ_505] = "downstream_rq_505",
	[MC_RQ_HEADER_TIMEOUT] = "downstream_rq_header_timeout",
	[MC_UPSTREAM_BAD_RESPONSE] = "upstream_rq_protocol_error",
	[MC_NO_ROUTE] = "downstream_rq_no_route",
	[MC_BLACKHOLE] = "downstream_blackholed",
	[MC_NO_HEALTHY] = "downstream_rq_no_healthy_upstream",
	[MC_CONNECT_FAILED] = "downstream_rq_upstream_connect_fail",
	[MC_ROUTE_TIMEOUT] = "downstream_rq_upstream_timeout",
	[MC_DOWNSTREAM_RESET] = "downstream_rq_rx_reset",
	[MC_RETRIES] = "upstream_rq_retry",
	[MC_RECV_ENOBUFS] = "io_recv_enobufs",
	[MC_SNAPSHOT_SWAPS] = "config_snapshot_swaps",
	[MC_LOG_DROPPED] = "log_bytes_dropped",
	[MC_NO_ORIGINAL_DST] = "downstream_cx_no_original_dst",
	[MC_TLS_HANDSHAKE_SHED] = "downstream_cx_tls_handshake_shed",
	[MC_H2_CX] = "downstream_cx_http2_total",
	[MC_H2_RX_RESET] = "http2_rx_reset",
	[MC_H2_TX_RESET] = "http2_tx_reset",
	[MC_H2_PREMATURE_RESET] = "http2_premature_reset",
	[MC_H2_HEADER_OVERFLOW] = "http2_header_overflow",
	[MC_H2_EMPTY_FRAMES] = "http2_inbound_empty_frames",
	[MC_H2_REFUSED] = "http2_stream_refused",
	[MC_H2_PROTOCOL_ERROR] = "http2_protocol_error",
	[MC_H2_GOAWAY_SENT] = "http2_goaway_sent",
};

const char mg_counter_is_gauge[MC_COUNT] = {
	[MC_DOWNSTREAM_ACTIVE] = 1,
	[MC_UPSTREAM_ACTIVE] = 1,
};

const double metrics_duration_buckets[METRICS_NUM_DURATION_BUCKETS] = {
	0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000,
	60000, 300000, 600000, 1800000, 3600000,
};

const uint64_t metrics_bytes_buckets[METRICS_NUM_BYTES_BUCKETS] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
	1000000000,
};

// Cells of one series. Each histogram keeps per-bucket (not cumulative)
// counts plus an overflow (+Inf) bucket; its count is the sum of those, so a
// render can never show +Inf != _count. istio_requests_total is the duration
// count: the three are one observation.
enum {
	HC_DUR = 0,
	HC_DUR_SUM = HC_DUR + METRICS_NUM_DURATION_BUCKETS + 1,	// microseconds
	HC_REQ,
	HC_REQ_SUM = HC_REQ + METRICS_NUM_BYTES_BUCKETS + 1,
	HC_RESP,
	HC_RESP_SUM = HC_RESP + METRICS_NUM_BYTES_BUCKETS + 1,
	HC_COUNT,

	TC_OPENED = 0,
	TC_CLOSED,
	TC_SENT,
	TC_RECEIVED,
	TC_COUNT,
};

enum {
	INDEX_SIZE = 2 * METRICS_MAX_SERIES,	// load factor <= 1/2
	// Interned label bytes per table: ~650 worst-case (25 x 512 B) series,
	// or all METRICS_MAX_SERIES at up to 2 KB (a real one is ~600 B).
	MAX_LABEL_BYTES = 8 << 20,
};

// MAX_DURATION_US caps one observation's contribution to the sum (~31
// years) so a garbage duration cannot overflow the conversion.
#define MAX_DURATION_US (1000000ull * 1000000000ull)

_Static_assert((INDEX_SIZE & (INDEX_SIZE - 1)) == 0, "index size is a power of two");
_Static_assert(METRICS_MAX_SERIES < UINT16_MAX, "series numbers fit the index");

static const int num_cells[MK_COUNT] = { [MK_HTTP] = HC_COUNT, [MK_TCP] = TC_COUNT };

// series is one label set of one kind. Everything but the cells is written
// once, before the series is published, and never changes.
struct series {
	uint64_t hash;
	const char *val[IL_COUNT];	// interned, NUL-terminated; "" where the kind has no such label
	uint32_t len[IL_COUNT];
	uint64_t cell[];		// num_cells[kind], single writer
};

// table: series[0..num) are published. index is the writer's alone.
struct table {
	uint32_t num;			// release-stored by the writer
	uint64_t overflow;		// single-writer cell
	size_t label_bytes;		// writer only
	uint16_t index[INDEX_SIZE];	// series number + 1; 0 is empty
	struct series *series[METRICS_MAX_SERIES];
};

struct metrics {
	uint64_t counter[MC_COUNT];	// single-writer cells; gauges wrap as int64
	struct table tab[MK_COUNT];
};

// The seed keeps probe sequences unpredictable: label values come from
// peers, and a known hash would let one fill a probe chain on purpose.
static uint64_t hash_seed;
static pthread_once_t seed_once = PTHREAD_ONCE_INIT;

static void seed_init(void)
{
	struct timespec ts;
	uint64_t s;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uintptr_t)&s;
	}
	hash_seed = s;
}

// cell_add is the single writer's increment: a plain load and store, each
// atomic so a concurrent reader sees an old or a new value, never a torn one.
static inline void cell_add(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + v, __ATOMIC_RELAXED);
}

static inline uint64_t cell_get(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline int kind_has_label(enum metrics_kind kind, int i)
{
	return kind == MK_HTTP || (i != IL_RESPONSE_CODE && i != IL_GRPC_RESPONSE_STATUS);
}

struct metrics *metrics_new(void)
{
	void *p;

	pthread_once(&seed_once, seed_init);
	// Its own cache lines: stores of different workers must not share one.
	if (posix_memalign(&p, 64, sizeof(struct metrics)))
		return NULL;
	memset(p, 0, sizeof(struct metrics));
	return p;
}

void metrics_free(struct metrics *m)
{
	uint32_t i;
	int k;

	if (!m)
		return;
	for (k = 0; k < MK_COUNT; k++)
		for (i = 0; i < m->tab[k].num; i++)
			free(m->tab[k].series[i]);
	free(m);
}

void metrics_inc(struct metrics *m, enum mg_counter c, uint64_t v)
{
	cell_add(&m->counter[c], v);
}

void metrics_gauge_add(struct metrics *m, enum mg_counter c, int64_t delta)
{
	cell_add(&m->counter[c], (uint64_t)delta);	// wraps; read back as int64
}

uint64_t metrics_get(const struct metrics *m, enum mg_counter c)
{
	return cell_get(&m->counter[c]);
}

unsigned metrics_num_series(const struct metrics *m, enum metrics_kind kind)
{
	return __atomic_load_n(&m->tab[kind].num, __ATOMIC_ACQUIRE);
}

uint64_t metrics_overflow(const struct metrics *m, enum metrics_kind kind)
{
	return cell_get(&m->tab[kind].overflow);
}

// key is a label set normalized for lookup: defaults filled in, lengths
// measured once and capped.
struct key {
	uint64_t hash;
	const char *val[IL_COUNT];
	uint32_t len[IL_COUNT];
};

static void key_make(struct key *k, const char *const labels[IL_COUNT],
		     enum metrics_kind kind)
{
	uint64_t h = hash_seed;
	const char *s;
	size_t n;
	int i;

	for (i = 0; i < IL_COUNT; i++) {
		if (!kind_has_label(kind, i)) {
			k->val[i] = "";
			k->len[i] = 0;
			continue;
		}
		s = labels[i];
		if (!s || !*s) {
			s = i == IL_RESPONSE_FLAGS ? "-" : "unknown";
			n = i == IL_RESPONSE_FLAGS ? 1 : 7;
		} else {
			n = strnlen(s, METRICS_MAX_LABEL_LEN);
		}
		k->val[i] = s;
		k->len[i] = (uint32_t)n;
		// Chaining through the seed keeps ("ab","c") apart from ("a","bc").
		h = hash64_seed(s, n, h);
	}
	k->hash = h;
}

static int key_equal(const struct series *s, const struct key *k)
{
	int i;

	for (i = 0; i < IL_COUNT; i++)
		if (s->len[i] != k->len[i] || memcmp(s->val[i], k->val[i], k->len[i]))
			return 0;
	return 1;
}

// series_create interns k as series number t->num at index slot pos and
// publishes it. It returns NULL, counting an overflow, when the table or
// its label budget is full or malloc fails.
static struct series *series_create(struct table *t, enum metrics_kind kind,
				     const struct key *k, uint32_t pos)
{
	uint32_t n = t->num;
	size_t bytes = 0, cells = (size_t)num_cells[kind] * sizeof(uint64_t);
	struct series *s;
	char *p;
	int i;

	for (i = 0; i < IL_COUNT; i++)
		bytes += k->len[i] + 1;
	if (n >= METRICS_MAX_SERIES || t->label_bytes + bytes > MAX_LABEL_BYTES)
		goto overflow;
	s = malloc(sizeof(*s) + cells + bytes);
	if (!s)
		goto overflow;
	s->hash = k->hash;
	memset(s->cell, 0, cells);
	p = (char *)s->cell + cells;
	for (i = 0; i < IL_COUNT; i++) {
		memcpy(p, k->val[i], k->len[i]);
		p[k->len[i]] = '\0';
		s->val[i] = p;
		s->len[i] = k->len[i];
		p += k->len[i] + 1;
	}
	t->label_bytes += bytes;
	t->series[n] = s;
	t->index[pos] = (uint16_t)(n + 1);
	// Publish: a reader that sees num > n sees all of the above.
	__atomic_store_n(&t->num, n + 1, __ATOMIC_RELEASE);
	return s;
overflow:
	cell_add(&t->overflow, 1);
	return NULL;
}

static struct series *series_get(struct metrics *m, enum metrics_kind kind,
				 const char *const labels[IL_COUNT])
{
	struct table *t = &m->tab[kind];
	struct series *s;
	struct key k;
	uint32_t pos;
	uint16_t idx;

	key_make(&k, labels, kind);
	pos = (uint32_t)k.hash & (INDEX_SIZE - 1);
	// Terminates: at most half the slots are ever used.
	while ((idx = t->index[pos])) {
		s = t->series[idx - 1];
		if (s->hash == k.hash && key_equal(s, &k))
			return s;
		pos = (pos + 1) & (INDEX_SIZE - 1);
	}
	return series_create(t, kind, &k, pos);
}

// duration_bucket returns the first bucket whose bound is >= ms (Prometheus
// buckets are inclusive upper bounds), METRICS_NUM_DURATION_BUCKETS for +Inf.
static int duration_bucket(double ms)
{
	int i;

	for (i = 0; i < METRICS_NUM_DURATION_BUCKETS; i++)
		if (ms <= metrics_duration_buckets[i])
			break;
	return i;
}

static int bytes_bucket(uint64_t v)
{
	int i;

	for (i = 0; i < METRICS_NUM_BYTES_BUCKETS; i++)
		if (v <= metrics_bytes_buckets[i])
			break;
	return i;
}

void metrics_http_observe(struct metrics *m, const char *const labels[IL_COUNT],
			  double duration_ms, uint64_t request_bytes,
			  uint64_t response_bytes)
{
	struct series *s = series_get(m, MK_HTTP, labels);
	uint64_t us;

	if (!s)
		return;
	if (!(duration_ms >= 0))	// negative or NaN: a clock step, count as 0
		duration_ms = 0;
	us = duration_ms >= MAX_DURATION_US / 1000 ? MAX_DURATION_US :
		(uint64_t)(duration_ms * 1000.0 + 0.5);
	cell_add(&s->cell[HC_DUR + duration_bucket(duration_ms)], 1);
	cell_add(&s->cell[HC_DUR_SUM], us);
	cell_add(&s->cell[HC_REQ + bytes_bucket(request_bytes)], 1);
	cell_add(&s->cell[HC_REQ_SUM], request_bytes);
	cell_add(&s->cell[HC_RESP + bytes_bucket(response_bytes)], 1);
	cell_add(&s->cell[HC_RESP_SUM], response_bytes);
}

void metrics_tcp_opened(struct metrics *m, const char *const labels[IL_COUNT])
{
	struct series *s = series_get(m, MK_TCP, labels);

	if (s)
		cell_add(&s->cell[TC_OPENED], 1);
}

void metrics_tcp_closed(struct metrics *m, const char *const labels[IL_COUNT])
{
	struct series *s = series_get(m, MK_TCP, labels);

	if (s)
		cell_add(&s->cell[TC_CLOSED], 1);
}

void metrics_tcp_bytes(struct metrics *m, const char *const labels[IL_COUNT],
		       uint64_t sent, uint64_t received)
{
	struct series *s = series_get(m, MK_TCP, labels);

	if (!s)
		return;
	if (sent)
		cell_add(&s->cell[TC_SENT], sent);
	if (received)
		cell_add(&s->cell[TC_RECEIVED], received);
}

// ---- rendering (control thread) ----

// append_label_value escapes v for a Prometheus label value: backslash,
// double quote and newline per the 0.0.4 format, and each byte that is not
// valid UTF-8 becomes U+FFFD (the scraper rejects invalid UTF-8).
static int append_label_value(struct buf *b, const char *v, size_t len)
{
	size_t i = 0, run = 0, n;
	const char *e;
	unsigned char c;
	int err;

	while (i < len) {
		c = (unsigned char)v[i];
		n = 1;
		e = NULL;
		if (c == '\\')
			e = "\\\\";
		else if (c == '"')
			e = "\\\"";
		else if (c == '\n')
			e = "\\n";
		else if (c >= 0x80 && !(n = json_utf8_len(v + i, len - i))) {
			n = 1;
			e = "\xef\xbf\xbd";
		}
		if (e) {
			if ((err = buf_append(b, v + run, i - run)) < 0 ||
			    (err = buf_appends(b, e)) < 0)
				return err;
			run = i + n;
		}
		i += n;
	}
	return buf_append(b, v + run, len - run);
}

// agg is one merged label set: its rendered label text (without braces)
// lives in merge.text, its summed cells in merge.cells.
struct agg {
	uint64_t hash;
	size_t off, len;
};

struct merge {
	enum metrics_kind kind;
	int ncells;
	uint32_t num, map_mask;
	struct agg *agg;
	uint64_t *cells;	// num x ncells
	uint32_t *map;		// agg number + 1; 0 is empty
	struct buf text;
};

static int series_text(struct buf *b, const struct series *s, enum metrics_kind kind)
{
	int i, err, first = 1;

	for (i = 0; i < IL_COUNT; i++) {
		if (!kind_has_label(kind, i))
			continue;
		if ((!first && (err = buf_append(b, ",", 1)) < 0) ||
		    (err = buf_appends(b, istio_label_names[i])) < 0 ||
		    (err = buf_append(b, "=\"", 2)) < 0 ||
		    (err = append_label_value(b, s->val[i], s->len[i])) < 0 ||
		    (err = buf_append(b, "\"", 1)) < 0)
			return err;
		first = 0;
	}
	return 0;
}

static void merge_cleanup(struct merge *mg)
{
	free(mg->agg);
	free(mg->cells);
	free(mg->map);
	buf_cleanup(&mg->text);
}

// merge_build sums kind's series over stores by their rendered label text,
// so label sets that differ only in bytes the text normalizes (invalid
// UTF-8) still come out as one series. nums holds each store's published
// count, loaded once. It returns 0 or -ENOMEM.
static int merge_build(struct merge *mg, enum metrics_kind kind,
		       struct metrics *const *stores, int n, const uint32_t *nums)
{
	size_t total = 0, cap = 16, off;
	const struct series *s;
	uint64_t h, *dst;
	uint32_t i, pos, a;
	int st, c, err;

	memset(mg, 0, sizeof(*mg));
	mg->kind = kind;
	mg->ncells = num_cells[kind];
	for (st = 0; st < n; st++)
		total += nums[st];
	while (cap < 2 * total)
		cap *= 2;
	mg->map_mask = (uint32_t)cap - 1;
	mg->map = calloc(cap, sizeof(*mg->map));
	mg->agg = calloc(total ? total : 1, sizeof(*mg->agg));
	mg->cells = calloc(total ? total : 1, (size_t)mg->ncells * sizeof(uint64_t));
	if (!mg->map || !mg->agg || !mg->cells)
		return -ENOMEM;
	for (st = 0; st < n; st++) {
		for (i = 0; i < nums[st]; i++) {
			s = stores[st]->tab[kind].series[i];
			off = mg->text.len;
			if ((err = series_text(&mg->text, s, kind)) < 0)
				return err;
			h = hash64_seed(mg->text.data + off, mg->text.len - off, hash_seed);
			pos = (uint32_t)h & mg->map_mask;
			while ((a = mg->map[pos])) {
				struct agg *g = &mg->agg[a - 1];

				if (g->hash == h && g->len == mg->text.len - off &&
				    !memcmp(mg->text.data + g->off, mg->text.data + off, g->len))
					break;
				pos = (pos + 1) & mg->map_mask;
			}
			if (a) {
				mg->text.len = off;	// a known label set: drop the copy
			} else {
				a = ++mg->num;
				mg->map[pos] = a;
				mg->agg[a - 1] = (struct agg){ h, off, mg->text.len - off };
			}
			dst = mg->cells + (size_t)(a - 1) * mg->ncells;
			for (c = 0; c < mg->ncells; c++)
				dst[c] += cell_get(&s->cell[c]);
		}
	}
	return 0;
}

static int append_u64(struct buf *b, uint64_t v)
{
	return json_append_u64(b, v);
}

// sample appends `name{labels[,le="le"]} ` and leaves the value to the caller.
static int sample(struct buf *b, const char *name, const char *suffix,
		  const struct merge *mg, uint32_t a, const char *le)
{
	const struct agg *g = &mg->agg[a];
	int err;

	if ((err = buf_appends(b, name)) < 0 || (err = buf_appends(b, suffix)) < 0 ||
	    (err = buf_append(b, "{", 1)) < 0 ||
	    (err = buf_append(b, mg->text.data + g->off, g->len)) < 0)
		return err;
	if (le && ((err = buf_append(b, ",le=\"", 5)) < 0 ||
		   (err = buf_appends(b, le)) < 0 || (err = buf_append(b, "\"", 1)) < 0))
		return err;
	return buf_append(b, "} ", 2);
}

static int sample_u64(struct buf *b, const char *name, const char *suffix,
		      const struct merge *mg, uint32_t a, const char *le, uint64_t v)
{
	int err;

	if ((err = sample(b, name, suffix, mg, a, le)) < 0 ||
	    (err = append_u64(b, v)) < 0)
		return err;
	return buf_append(b, "\n", 1);
}

static int type_line(struct buf *b, const char *name, const char *type)
{
	return buf_appendf(b, "# TYPE %s %s\n", name, type);
}

// append_ms writes microseconds as milliseconds without float rounding:
// 1234567 -> "1234.567", 1500 -> "1.5", 2000 -> "2".
static int append_ms(struct buf *b, uint64_t us)
{
	char frac[5];
	unsigned f = (unsigned)(us % 1000);
	int err, n = 4;

	if ((err = append_u64(b, us / 1000)) < 0 || !f)
		return err;
	frac[0] = '.';
	frac[1] = (char)('0' + f / 100);
	frac[2] = (char)('0' + f / 10 % 10);
	frac[3] = (char)('0' + f % 10);
	while (frac[n - 1] == '0')
		n--;
	return buf_append(b, frac, (size_t)n);
}

// histogram renders one histogram family from cells [base, base+nb] (nb
// buckets + overflow) and the sum cell after them.
static int histogram(struct buf *b, const char *name, const struct merge *mg,
		     int base, int nb, const char *const *les, int sum_is_us)
{
	const uint64_t *cells;
	uint64_t cum;
	uint32_t a;
	int i, err;

	if ((err = type_line(b, name, "histogram")) < 0)
		return err;
	for (a = 0; a < mg->num; a++) {
		cells = mg->cells + (size_t)a * mg->ncells + base;
		cum = 0;
		for (i = 0; i < nb; i++) {
			cum += cells[i];
			if ((err = sample_u64(b, name, "_bucket", mg, a, les[i], cum)) < 0)
				return err;
		}
		cum += cells[nb];
		if ((err = sample_u64(b, name, "_bucket", mg, a, "+Inf", cum)) < 0 ||
		    (err = sample(b, name, "_sum", mg, a, NULL)) < 0 ||
		    (err = sum_is_us ? append_ms(b, cells[nb + 1]) :
				       append_u64(b, cells[nb + 1])) < 0 ||
		    (err = buf_append(b, "\n", 1)) < 0 ||
		    (err = sample_u64(b, name, "_count", mg, a, NULL, cum)) < 0)
			return err;
	}
	return 0;
}

static int counter_family(struct buf *b, const char *name, const struct merge *mg,
			  int first, int ncells)
{
	uint64_t v;
	uint32_t a;
	int c, err;

	if ((err = type_line(b, name, "counter")) < 0)
		return err;
	for (a = 0; a < mg->num; a++) {
		const uint64_t *cells = mg->cells + (size_t)a * mg->ncells;

		for (v = 0, c = first; c < first + ncells; c++)
			v += cells[c];
		if ((err = sample_u64(b, name, "", mg, a, NULL, v)) < 0)
			return err;
	}
	return 0;
}

// Bucket bounds as Envoy prints them ({:.32g}: no exponent notation).
static const char *const duration_les[METRICS_NUM_DURATION_BUCKETS] = {
	"0.5", "1", "5", "10", "25", "50", "100", "250", "500", "1000", "2500",
	"5000", "10000", "30000", "60000", "300000", "600000", "1800000", "3600000",
};
static const char *const bytes_les[METRICS_NUM_BYTES_BUCKETS] = {
	"1", "10", "100", "1000", "10000", "100000", "1000000", "10000000",
	"100000000", "1000000000",
};

static int render_istio(struct buf *b, struct metrics *const *stores, int n,
			const uint32_t *nums_http, const uint32_t *nums_tcp)
{
	struct merge mg;
	int err;

	if ((err = merge_build(&mg, MK_HTTP, stores, n, nums_http)) < 0)
		goto out;
	if (mg.num &&
	    ((err = counter_family(b, "istio_requests_total", &mg, HC_DUR,
				   METRICS_NUM_DURATION_BUCKETS + 1)) < 0 ||
	     (err = histogram(b, "istio_request_duration_milliseconds", &mg, HC_DUR,
			      METRICS_NUM_DURATION_BUCKETS, duration_les, 1)) < 0 ||
	     (err = histogram(b, "istio_request_bytes", &mg, HC_REQ,
			      METRICS_NUM_BYTES_BUCKETS, bytes_les, 0)) < 0 ||
	     (err = histogram(b, "istio_response_bytes", &mg, HC_RESP,
			      METRICS_NUM_BYTES_BUCKETS, bytes_les, 0)) < 0))
		goto out;
	merge_cleanup(&mg);

	if ((err = merge_build(&mg, MK_TCP, stores, n, nums_tcp)) < 0)
		goto out;
	if (mg.num &&
	    ((err = counter_family(b, "istio_tcp_connections_opened_total", &mg, TC_OPENED, 1)) < 0 ||
	     (err = counter_family(b, "istio_tcp_connections_closed_total", &mg, TC_CLOSED, 1)) < 0 ||
	     (err = counter_family(b, "istio_tcp_sent_bytes_total", &mg, TC_SENT, 1)) < 0 ||
	     (err = counter_family(b, "istio_tcp_received_bytes_total", &mg, TC_RECEIVED, 1)) < 0))
		goto out;
	err = 0;
out:
	merge_cleanup(&mg);
	return err;
}

// own_sum sums counter c over the stores; gauges are summed as signed.
static uint64_t own_sum(struct metrics *const *stores, int n, int c)
{
	uint64_t v = 0;
	int st;

	for (st = 0; st < n; st++)
		v += metrics_get(stores[st], c);
	return v;
}

static int append_value(struct buf *b, uint64_t v, int is_gauge)
{
	return is_gauge ? json_append_i64(b, (int64_t)v) : append_u64(b, v);
}

static const char *const overflow_names[MK_COUNT] = {
	[MK_HTTP] = "metrics_http_series_overflow",
	[MK_TCP] = "metrics_tcp_series_overflow",
};

static uint64_t overflow_sum(struct metrics *const *stores, int n, enum metrics_kind k)
{
	uint64_t v = 0;
	int st;

	for (st = 0; st < n; st++)
		v += metrics_overflow(stores[st], k);
	return v;
}

static int render_own(struct buf *b, struct metrics *const *stores, int n)
{
	int c, err;

	for (c = 0; c < MC_COUNT; c++) {
		if ((err = buf_appendf(b, "# TYPE meshgate_%s %s\nmeshgate_%s ",
				       mg_counter_names[c],
				       mg_counter_is_gauge[c] ? "gauge" : "counter",
				       mg_counter_names[c])) < 0 ||
		    (err = append_value(b, own_sum(stores, n, c), mg_counter_is_gauge[c])) < 0 ||
		    (err = buf_append(b, "\n", 1)) < 0)
			return err;
	}
	for (c = 0; c < MK_COUNT; c++) {
		if ((err = buf_appendf(b, "# TYPE meshgate_%s counter\nmeshgate_%s ",
				       overflow_names[c], overflow_names[c])) < 0 ||
		    (err = append_u64(b, overflow_sum(stores, n, c))) < 0 ||
		    (err = buf_append(b, "\n", 1)) < 0)
			return err;
	}
	return 0;
}

// compact_stores drops NULL entries so callers may pass a sparse worker array.
static int compact_stores(struct metrics **dst, struct metrics *const *stores, int n)
{
	int i, k = 0;

	for (i = 0; i < n; i++)
		if (stores[i])
			dst[k++] = stores[i];
	return k;
}

int metrics_render_prometheus(struct buf *out, struct metrics *const *stores, int n)
{
	size_t start = out->len;
	struct metrics **live = NULL;
	uint32_t *nums = NULL;
	int i, err = -ENOMEM;

	if (n < 0)
		n = 0;
	live = calloc((size_t)n + 1, sizeof(*live));
	nums = calloc(2 * (size_t)n + 1, sizeof(*nums));
	if (!live || !nums)
		goto out;
	n = compact_stores(live, stores, n);
	// One acquire load per table: the series below that count are complete.
	for (i = 0; i < n; i++) {
		nums[i] = metrics_num_series(live[i], MK_HTTP);
		nums[n + i] = metrics_num_series(live[i], MK_TCP);
	}
	if ((err = render_istio(out, live, n, nums, nums + n)) < 0 ||
	    (err = render_own(out, live, n)) < 0)
		goto out;
	err = 0;
out:
	if (err)
		out->len = start;	// all or nothing
	free(live);
	free(nums);
	return err;
}

int metrics_render_stats(struct buf *out, struct metrics *const *stores, int n)
{
	size_t start = out->len;
	struct metrics **live;
	int c, err = 0;

	if (n < 0)
		n = 0;
	if (!(live = calloc((size_t)n + 1, sizeof(*live))))
		return -ENOMEM;
	n = compact_stores(live, stores, n);
	for (c = 0; c < MC_COUNT && !err; c++) {
		if ((err = buf_appendf(out, "%s: ", mg_counter_names[c])) < 0 ||
		    (err = append_value(out, own_sum(live, n, c), mg_counter_is_gauge[c])) < 0)
			break;
		err = buf_append(out, "\n", 1);
	}
	for (c = 0; c < MK_COUNT && !err; c++) {
		if ((err = buf_appendf(out, "%s: ", overflow_names[c])) < 0 ||
		    (err = append_u64(out, overflow_sum(live, n, c))) < 0)
			break;
		err = buf_append(out, "\n", 1);
	}
	if (err)
		out->len = start;
	free(live);
	return err;
}
