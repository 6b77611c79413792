// SPDX-License-Identifier: Apache-2.0
// dns.c: see dns.h. c-ares tells us which sockets it wants watched
// (ARES_OPT_SOCK_STATE_CB); each is a one-shot poll on the control ring,
// re-armed after c-ares processed it, and c-ares' retransmit timeouts are a
// ring timer. Nothing here blocks and nothing uses poll/select/epoll.
#include "dns.h"

#include <ares.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bug.h"
#include "core/log.h"

static void arm_ares_timer(struct dns *d);
static void schedule_due(struct dns *d);

static void sock_arm(struct dns *d, struct dns_sock *s)
{
	if (s->ev.armed) {
		// a different interest: the completion of this cancel re-arms
		if (s->armed_for != s->want)
			ring_event_cancel(d->ring, &s->ev);
		return;
	}
	if (!s->want) {
		s->ev.fd = -1;	// free
		return;
	}
	s->armed_for = s->want;
	ring_event_poll(d->ring, &s->ev, s->want);
}

static void on_poll(struct ring *r, int res, struct ring_event *ev)
{
	struct dns_sock *s = container_of(ev, struct dns_sock, ev);
	struct dns *d = s->d;

	if (res > 0 && d->channel) {
		ares_socket_t rfd = (res & (POLLIN | POLLERR | POLLHUP)) ? ev->fd : ARES_SOCKET_BAD;
		ares_socket_t wfd = (res & (POLLOUT | POLLERR | POLLHUP)) ? ev->fd : ARES_SOCKET_BAD;

		ares_process_fd(d->channel, rfd, wfd);
	}
	sock_arm(d, s);
	if (d->channel)
		arm_ares_timer(d);
}

// sock_state: c-ares wants fd watched for reading and/or writing, or (0, 0)
// no longer.
static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns *d = data;
	struct dns_sock *s = NULL, *free_slot = NULL;
	unsigned want = (readable ? POLLIN : 0) | (writable ? POLLOUT : 0);

	for (int i = 0; i < DNS_MAX_SOCKS; i++) {
		if (d->socks[i].ev.fd == fd)
			s = &d->socks[i];
		else if (d->socks[i].ev.fd < 0 && !free_slot)
			free_slot = &d->socks[i];
	}
	if (!s) {
		if (!want)
			return;
		if (!free_slot) {
			log_ratelimited(LOG_ERR, NULL, "dns: more than %d resolver sockets, one "
					"not watched (its query will time out)", DNS_MAX_SOCKS);
			return;
		}
		s = free_slot;
		s->ev.fd = fd;
	}
	s->want = want;
	sock_arm(d, s);
}

static void ares_timeout_fire(struct ring_timer *t)
{
	struct dns *d = container_of(t, struct dns, ares_timer);

	if (!d->channel)
		return;
	ares_process_fd(d->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	arm_ares_timer(d);
}

static void arm_ares_timer(struct dns *d)
{
	struct timeval tv, *tvp = ares_timeout(d->channel, NULL, &tv);

	if (!tvp) {
		ring_timer_cancel(d->ring, &d->ares_timer);
		return;
	}
	ring_timer_set(d->ring, &d->ares_timer,
		       (uint64_t)tvp->tv_sec * 1000 + (uint64_t)tvp->tv_usec / 1000 + 1,
		       ares_timeout_fire);
}

static void settle_fire(struct ring_timer *t)
{
	struct dns *d = container_of(t, struct dns, settle);

	if (d->changed)
		d->changed(d->changed_arg);
}

// lower copies a DNS name lowercased into out (which has DNS name room).
static size_t lower(const char *name, char out[256])
{
	size_t n = 0;

	for (; name[n] && n < 255; n++)
		out[n] = (char)tolower((unsigned char)name[n]);
	out[n] = '\0';
	return n;
}

static struct dns_name *find(const struct dns *d, const char *name)
{
	char key[256];
	size_t len = lower(name, key);
	uint32_t i;

	return strmap_get(&d->index, key, len, &i) ? &d->names[i] : NULL;
}

static int cmp_addr(const void *x, const void *y)
{
	const struct sockaddr_storage *a = x, *b = y;

	if (a->ss_family != b->ss_family)
		return a->ss_family == AF_INET ? -1 : 1;
	if (a->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
			      &((const struct sockaddr_in *)b)->sin_addr, 4);
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		      &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
}

struct query {
	struct dns *d;
	char name[];
};

static void on_answer(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct query *q = arg;
	struct dns *d = q->d;
	struct dns_name *n;
	struct sockaddr_storage addrs[DNS_MAX_ADDRS];
	int num = 0, ttl = DNS_MAX_TTL_MS / 1000;
	bool changed = false;

	(void)timeouts;
	if (status == ARES_EDESTRUCTION || !(n = find(d, q->name)))
		goto out;
	n->in_flight = false;
	if (status == ARES_SUCCESS) {
		for (struct ares_addrinfo_node *a = res ? res->nodes : NULL; a; a = a->ai_next) {
			bool dup = false;

			if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) ||
			    num == DNS_MAX_ADDRS)
				continue;
			memset(&addrs[num], 0, sizeof(addrs[num]));
			memcpy(&addrs[num], a->ai_addr, a->ai_family == AF_INET ?
			       sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
			for (int k = 0; k < num; k++)
				dup |= !cmp_addr(&addrs[k], &addrs[num]);
			if (dup)
				continue;
			ttl = a->ai_ttl < ttl ? a->ai_ttl : ttl;
			num++;
		}
		// sorted: the same answer in another order is the same endpoints
		qsort(addrs, (size_t)num, sizeof(addrs[0]), cmp_addr);
		changed = num != n->num_addrs ||
			  memcmp(addrs, n->addrs, sizeof(addrs[0]) * (size_t)num);
		memcpy(n->addrs, addrs, sizeof(addrs[0]) * (size_t)num);
		n->num_addrs = num;
		changed |= !n->answered;
		n->answered = true;
		n->failures = 0;
		n->last_error[0] = '\0';
		ttl = ttl < 0 ? 0 : ttl;
		n->due_ms = d->ring->now_ms + ((uint64_t)ttl * 1000 < DNS_MIN_TTL_MS ? DNS_MIN_TTL_MS :
					       (uint64_t)ttl * 1000);
	} else {
		uint32_t backoff = 1000u << (n->failures < 5 ? n->failures : 5);

		n->failures++;
		d->failures++;
		snprintf(n->last_error, sizeof(n->last_error), "%s", ares_strerror(status));
		log_ratelimited(LOG_WARN, NULL, "dns: %s: %s; %s, asking again in %u s", n->name,
				n->last_error, n->answered ? "keeping the last answer" : "no address yet",
				(backoff > 30000 ? 30000 : backoff) / 1000);
		n->due_ms = d->ring->now_ms + (backoff > 30000 ? 30000 : backoff);
	}
	if (changed && n->wanted) {
		d->changes++;
		if (!ring_timer_armed(&d->settle))
			ring_timer_set(d->ring, &d->settle, DNS_SETTLE_MS, settle_fire);
	}
	if (d->channel)
		schedule_due(d);
out:
	if (res)
		ares_freeaddrinfo(res);
	free(q);
}

static void ask(struct dns *d, struct dns_name *n)
{
	struct ares_addrinfo_hints hints;
	size_t len = strlen(n->name);
	struct query *q = malloc(sizeof(*q) + len + 1);

	if (!q)
		return;		// asked again at the next due time
	q->d = d;
	memcpy(q->name, n->name, len + 1);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_flags = ARES_AI_NOSORT;	// sorting would connect() a socket per address
	n->in_flight = true;
	d->queries++;
	ares_getaddrinfo(d->channel, n->name, NULL, &hints, on_answer, q);	// may answer at once
	arm_ares_timer(d);
}

static void due_fire(struct ring_timer *t)
{
	struct dns *d = container_of(t, struct dns, due_timer);

	for (uint32_t i = 0; i < d->num && d->channel; i++) {
		struct dns_name *n = &d->names[i];

		if (n->wanted && !n->in_flight && n->due_ms <= d->ring->now_ms)
			ask(d, n);
	}
	if (d->channel)
		schedule_due(d);
}

static void schedule_due(struct dns *d)
{
	uint64_t next = UINT64_MAX;

	for (uint32_t i = 0; i < d->num; i++) {
		const struct dns_name *n = &d->names[i];

		if (n->wanted && !n->in_flight && n->due_ms < next)
			next = n->due_ms;
	}
	if (next == UINT64_MAX) {
		ring_timer_cancel(d->ring, &d->due_timer);
		return;
	}
	ring_timer_set(d->ring, &d->due_timer, next > d->ring->now_ms ? next - d->ring->now_ms : 0,
		       due_fire);
}

// want marks name as needed, adding it (due now) when it is new.
static void want(struct dns *d, const char *name)
{
	unsigned char ip[16];
	struct dns_name *n;
	char key[256];
	size_t len;

	if (!name || !name[0] || inet_pton(AF_INET, name, ip) == 1 ||
	    inet_pton(AF_INET6, name, ip) == 1 || !strncmp(name, "unix://", 7) ||
	    name[0] == '*')
		return;
	if ((n = find(d, name))) {
		n->wanted = true;
		return;
	}
	if (d->num == d->cap) {
		uint32_t cap = d->cap ? d->cap * 2 : 16;
		struct dns_name *nn = realloc(d->names, cap * sizeof(*nn));

		if (!nn)
			return;
		d->names = nn;
		d->cap = cap;
	}
	len = lower(name, key);
	n = &d->names[d->num];
	memset(n, 0, sizeof(*n));
	if (!(n->name = strdup(key)) || strmap_put(&d->index, key, len, d->num, NULL) < 0) {
		free(n->name);
		return;
	}
	n->wanted = true;
	n->due_ms = d->ring->now_ms;
	d->num++;
}

void dns_want_config(struct dns *d, const struct istio_config *cfg)
{
	if (!d->channel)
		return;
	for (uint32_t i = 0; i < d->num; i++)
		d->names[i].wanted = d->names[i].pinned;
	for (int i = 0; i < cfg->num_service_entries; i++) {
		const struct service_entry *se = &cfg->service_entries[i];

		if (se->resolution != SE_RES_DNS && se->resolution != SE_RES_DNS_ROUND_ROBIN)
			continue;
		for (int e = 0; e < se->num_endpoints; e++)
			want(d, se->endpoints[e].address);
		for (int h = 0; !se->num_endpoints && !se->num_workload_selector &&
				h < se->num_hosts; h++)
			want(d, se->hosts[h]);
	}
	// WorkloadEntries by host name (selected by a resolution DNS entry)
	for (int i = 0; i < cfg->num_workload_entries; i++)
		want(d, cfg->workload_entries[i].ep.address);
	due_fire(&d->due_timer);
}

void dns_pin(struct dns *d, const char *name)
{
	struct dns_name *n;

	if (!d->channel)
		return;
	want(d, name);
	if ((n = find(d, name)))
		n->pinned = true;
	due_fire(&d->due_timer);
}

bool dns_first_sync_pending(const struct dns *d)
{
	for (uint32_t i = 0; d->channel && i < d->num; i++)
		if (d->names[i].wanted && !d->names[i].answered && !d->names[i].failures)
			return true;
	return false;
}

int dns_resolve(void *arg, const char *name, struct sockaddr_storage *out, int max)
{
	const struct dns_name *n = find(arg, name);
	int num = n ? n->num_addrs : 0;

	num = num < max ? num : max;
	if (num > 0)
		memcpy(out, n->addrs, sizeof(out[0]) * (size_t)num);
	return num;
}

int dns_start(struct dns *d, struct ring *r, const char *servers,
	      void (*changed)(void *arg), void *arg)
{
	struct ares_options opts;
	ares_channel ch;
	int rc;

	memset(d, 0, sizeof(*d));
	d->ring = r;
	d->changed = changed;
	d->changed_arg = arg;
	for (int i = 0; i < DNS_MAX_SOCKS; i++) {
		d->socks[i].ev.fd = -1;
		d->socks[i].ev.fn = on_poll;
		d->socks[i].d = d;
	}
	if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
		log_emit(LOG_ERR, NULL, "dns: c-ares: %s", ares_strerror(rc));
		return -ENOMEM;
	}
	memset(&opts, 0, sizeof(opts));
	opts.sock_state_cb = sock_state;
	opts.sock_state_cb_data = d;
	opts.timeout = 2000;	// ms with ARES_OPT_TIMEOUTMS, per try
	opts.tries = 3;
	rc = ares_init_options(&ch, &opts, ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS |
			       ARES_OPT_TRIES);
	if (rc != ARES_SUCCESS) {
		log_emit(LOG_ERR, NULL, "dns: c-ares init: %s", ares_strerror(rc));
		return -EINVAL;
	}
	if (servers[0] && (rc = ares_set_servers_ports_csv(ch, servers)) != ARES_SUCCESS) {
		log_emit(LOG_ERR, NULL, "dns: servers %s: %s", servers, ares_strerror(rc));
		ares_destroy(ch);
		return -EINVAL;
	}
	d->channel = ch;
	d->started = true;
	return 0;
}

void dns_stop(struct dns *d)
{
	ares_channel ch = d->channel;

	if (!ch)
		return;
	d->channel = NULL;
	ring_timer_cancel(d->ring, &d->ares_timer);
	ring_timer_cancel(d->ring, &d->due_timer);
	ring_timer_cancel(d->ring, &d->settle);
	ares_destroy(ch);	// EDESTRUCTION to every query; sockets closed
	for (int i = 0; i < DNS_MAX_SOCKS; i++) {
		d->socks[i].want = 0;
		if (d->socks[i].ev.armed)
			ring_event_cancel(d->ring, &d->socks[i].ev);
		else
			d->socks[i].ev.fd = -1;
	}
}
