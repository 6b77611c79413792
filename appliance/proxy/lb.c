// SPDX-License-Identifier: Apache-2.0
// lb.c: per-worker endpoint state (active requests, idle pool, counters)
// and Istio's default load balancer, LEAST_REQUEST with two random choices.
#include <string.h>

#include "core/bug.h"
#include "core/hash.h"
#include "proxy.h"

static bool same_addr(const struct ep_state *e, const struct snap_endpoint *ep)
{
	return e->addr_len == ep->addr_len && !memcmp(&e->addr, &ep->addr, ep->addr_len);
}

struct ep_state *ep_state_get(struct worker *w, const struct snap_endpoint *ep)
{
	uint64_t h = hash64(&ep->addr, ep->addr_len);
	uint32_t i = (uint32_t)h & (EP_TABLE_SIZE - 1);

	for (uint32_t n = 0; n < EP_TABLE_SIZE; n++, i = (i + 1) & (EP_TABLE_SIZE - 1)) {
		struct ep_state *e = &w->eps[i];

		if (!e->published) {
			// Load factor capped at 3/4 so probes stay short; past
			// that an endpoint simply has no pool or counters.
			if (w->num_eps >= EP_TABLE_SIZE * 3 / 4)
				return NULL;
			memcpy(&e->addr, &ep->addr, ep->addr_len);
			e->addr_len = ep->addr_len;
			e->hash = h;
			list_init(&e->idle);
			list_init(&e->h2_conns);
			w->num_eps++;
			__atomic_store_n(&e->published, 1, __ATOMIC_RELEASE);
			return e;
		}
		if (e->hash == h && same_addr(e, ep))
			return e;
	}
	return NULL;
}

const struct ep_state *ep_state_find(const struct worker *w, const struct snap_endpoint *ep)
{
	uint64_t h = hash64(&ep->addr, ep->addr_len);
	uint32_t i = (uint32_t)h & (EP_TABLE_SIZE - 1);

	if (!w->eps)
		return NULL;
	for (uint32_t n = 0; n < EP_TABLE_SIZE; n++, i = (i + 1) & (EP_TABLE_SIZE - 1)) {
		const struct ep_state *e = &w->eps[i];

		if (!__atomic_load_n(&e->published, __ATOMIC_ACQUIRE))
			return NULL;
		if (e->hash == h && same_addr(e, ep))
			return e;
	}
	return NULL;
}

static uint32_t active_of(struct worker *w, const struct snap_endpoint *ep)
{
	struct ep_state *e = ep_state_get(w, ep);

	return e ? e->active_rq : 0;
}

const struct snap_endpoint *lb_pick(struct worker *w, const struct snap_cluster *c,
				    const struct snap_endpoint *avoid)
{
	const struct snap_endpoint *a, *b;
	uint32_t n = c->num_eps;

	if (!n)
		return NULL;
	if (n == 1)
		return &c->eps[0];
	a = &c->eps[worker_rand(w) % n];
	if (a == avoid)
		a = &c->eps[(uint32_t)(a - c->eps + 1) % n];
	b = &c->eps[worker_rand(w) % n];
	if (b == avoid || b == a)
		return a;
	// Envoy weighs active requests by endpoint weight; equal weights are
	// the common case and reduce to the plain comparison.
	if ((uint64_t)active_of(w, a) * b->weight <= (uint64_t)active_of(w, b) * a->weight)
		return a;
	return b;
}
