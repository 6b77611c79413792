// SPDX-License-Identifier: Apache-2.0
// snapshot.c: reference counting and host lookup on immutable snapshots;
// safe from any thread since nothing here writes a snapshot.
#include "snapshot.h"

#include <netinet/in.h>
#include <string.h>

#include "arena.h"
#include "hash.h"

void snapshot_ref(struct snapshot *s)
{
	__atomic_add_fetch(&s->refcnt, 1, __ATOMIC_RELAXED);
}

void snapshot_unref(struct snapshot *s)
{
	if (!s || __atomic_sub_fetch(&s->refcnt, 1, __ATOMIC_ACQ_REL))
		return;
	struct snapshot *base = s->base;

	for (struct snap_cleanup *c = s->cleanups; c; c = c->next)
		c->fn(c->arg);
	arena_free(s->arena);
	snapshot_unref(base);
}

const struct snap_vhost *snapshot_find_vhost(const struct snapshot *s,
					     const char *host, size_t len)
{
	if (s->vhost_index_mask) {
		uint32_t i = (uint32_t)hash64(host, len) & s->vhost_index_mask;

		for (;; i = (i + 1) & s->vhost_index_mask) {
			uint32_t v = s->vhost_index[i];
			const struct snap_vname *vn;

			if (!v)
				break;
			vn = &s->vnames[v - 1];
			if (strlen(vn->name) == len && !memcmp(vn->name, host, len))
				return &s->vhosts[vn->vhost];
		}
	}
	for (uint32_t i = 0; i < s->num_wildcards; i++) {
		const struct snap_vhost *vh = s->wildcards[i];
		size_t sl = strlen(vh->name) - 1;	// ".example.com" or "" for "*"

		if (!sl)
			return vh;
		if (len > sl && !memcmp(host + len - sl, vh->name + 1, sl))
			return vh;
	}
	return NULL;
}

uint16_t snap_addr_key(const struct sockaddr_storage *sa, uint8_t ip[16])
{
	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		memset(ip, 0, 10);
		ip[10] = ip[11] = 0xff;
		memcpy(ip + 12, &in->sin_addr, 4);
		return ntohs(in->sin_port);
	}
	if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		memcpy(ip, &in6->sin6_addr, 16);
		return ntohs(in6->sin6_port);
	}
	memset(ip, 0, 16);
	return 0;
}

uint32_t snap_addr_hash(const uint8_t ip[16], uint16_t port)
{
	uint8_t k[18];

	memcpy(k, ip, 16);
	k[16] = (uint8_t)(port >> 8);
	k[17] = (uint8_t)port;
	return (uint32_t)hash64(k, sizeof(k));
}

static bool prefix_match(const uint8_t *a, const uint8_t *net, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(a, net, whole))
		return false;
	return !rest || ((a[whole] ^ net[whole]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

const struct snap_cluster *snapshot_find_addr(const struct snapshot *s,
					      const struct sockaddr_storage *sa)
{
	uint8_t ip[16];
	uint16_t port = snap_addr_key(sa, ip);

	if (!port)
		return NULL;
	if (s->addr_index_mask) {
		uint32_t i = snap_addr_hash(ip, port) & s->addr_index_mask;

		for (;; i = (i + 1) & s->addr_index_mask) {
			uint32_t v = s->addr_index[i];

			if (!v)
				break;
			if (s->addrs[v - 1].port == port && !memcmp(s->addrs[v - 1].ip, ip, 16))
				return snap_cluster_of(s, s->addrs[v - 1].cluster);
		}
	}
	for (uint32_t i = s->num_exact_addrs; i < s->num_addrs; i++)
		if (s->addrs[i].port == port && prefix_match(ip, s->addrs[i].ip, s->addrs[i].prefix))
			return snap_cluster_of(s, s->addrs[i].cluster);
	return NULL;
}
