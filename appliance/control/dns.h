// SPDX-License-Identifier: Apache-2.0
// dns.h: the DNS names the configuration needs (ServiceEntries with
// resolution DNS or DNS_ROUND_ROBIN: their endpoints' host names, or their
// hosts when they list no endpoints), resolved asynchronously with c-ares on
// the control ring. Answers are kept until their TTL (at least 1 s, at most
// 5 min) and then asked again; a failed lookup keeps the last answer, is
// logged and counted, and is retried with back-off (1 s doubling to 30 s).
// When a name's addresses change, the snapshot is rebuilt (once per burst).
#ifndef MG_CONTROL_DNS_H
#define MG_CONTROL_DNS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config/istio.h"
#include "core/strmap.h"
#include "kernel-bypass/ring.h"

enum {
	DNS_MAX_ADDRS = 16,
	DNS_MAX_SOCKS = 16,	// sockets c-ares may have open at once
	DNS_MIN_TTL_MS = 1000,
	DNS_MAX_TTL_MS = 300000,
	DNS_SETTLE_MS = 50,
};

struct dns_name {
	char *name;
	struct sockaddr_storage addrs[DNS_MAX_ADDRS];	// ports unset
	int num_addrs;
	bool answered;		// an answer (possibly empty) was ever received
	bool wanted;		// the current configuration names it
	bool pinned;		// wanted whatever the configuration (dns_pin)
	bool in_flight;
	uint64_t due_ms;	// next query (ring time)
	uint32_t failures;	// consecutive
	char last_error[96];
};

struct dns_sock {
	struct ring_event ev;	// poll on a c-ares socket (ev.fd -1: free)
	struct dns *d;
	unsigned want;		// POLLIN/POLLOUT c-ares asked for
	unsigned armed_for;
};

struct dns {
	void *channel;		// ares_channel
	struct ring *ring;
	void (*changed)(void *arg);	// an answer changed: rebuild
	void *changed_arg;
	struct strmap index;	// name -> names[]
	struct dns_name *names;
	uint32_t num, cap;
	struct dns_sock socks[DNS_MAX_SOCKS];
	struct ring_timer ares_timer;	// c-ares' own retransmit timeouts
	struct ring_timer due_timer;	// the next name to ask again
	struct ring_timer settle;	// changed answers: one rebuild
	uint64_t queries, failures, changes;
	bool started;
};

// dns_start creates the resolver on ring: servers is c-ares' csv list
// ("ip:port,[ip6]:port"), "" for the system's resolv.conf. changed(arg)
// runs when the addresses of a wanted name changed. It returns 0 or -errno
// (the reason is logged).
int dns_start(struct dns *d, struct ring *r, const char *servers,
	      void (*changed)(void *arg), void *arg);

// dns_want_config makes the names cfg needs the ones kept resolved: new
// ones are asked now, names no longer used stop being refreshed.
void dns_want_config(struct dns *d, const struct istio_config *cfg);

// dns_pin keeps name resolved whatever the configuration says (the
// Kubernetes API server's host name).
void dns_pin(struct dns *d, const char *name);

// dns_resolve is snap_secrets.resolve: the addresses known for name.
int dns_resolve(void *arg, const char *name, struct sockaddr_storage *out, int max);

// dns_first_sync_pending says a wanted name has had no answer and no failed
// attempt yet: readiness waits for every source's first sync.
bool dns_first_sync_pending(const struct dns *d);

// dns_stop cancels everything (drain).
void dns_stop(struct dns *d);

#endif
