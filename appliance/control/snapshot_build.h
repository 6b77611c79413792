// SPDX-License-Identifier: Apache-2.0
// snapshot_build.h: resolve the bootstrap and the Istio resources into an
// immutable snapshot (see core/snapshot.h).
#ifndef MG_CONTROL_SNAPSHOT_BUILD_H
#define MG_CONTROL_SNAPSHOT_BUILD_H

#include <stddef.h>

#include "config/bootstrap.h"
#include "config/istio.h"
#include "core/snapshot.h"

struct buf;
struct arena;

// snapshot_build returns a new snapshot with one reference, or NULL with a
// reason in err. Resources the data plane cannot act on yet are logged
// once per build as "not enforced", never silently half-applied.
struct tls_identity;
struct tls_bundle;

// snap_secrets are the certificates a snapshot's TLS contexts are built
// from, besides the files listeners name: the appliance's SVID and the mesh
// trust bundle (either may be NULL: ISTIO_MUTUAL listeners then fail to
// build). The snapshot takes its own references.
struct snap_secrets {
	struct tls_identity *identity;
	struct tls_bundle *bundle;
	// resolve (may be NULL) gives the addresses known for a DNS name of a
	// ServiceEntry with resolution DNS or DNS_ROUND_ROBIN: up to max into
	// out (ports unset); it returns how many (0: none known yet).
	int (*resolve)(void *arg, const char *name, struct sockaddr_storage *out, int max);
	void *resolve_arg;
};

enum { SNAP_DNS_MAX_ADDRS = 16 };	// addresses taken from one DNS answer

struct snapshot *snapshot_build(const struct bootstrap *b, const struct istio_config *cfg,
				const struct snap_secrets *sec, char *err, size_t err_len);

// snapshot_update builds the snapshot that follows prev (NULL: none): when
// only endpoints changed since prev was built (ServiceEntry endpoints,
// WorkloadEntries, DNS answers), a patch of prev that shares everything
// else and redoes only the clusters of the entries whose endpoints changed
// (snapshot->base); otherwise snapshot_build. Either way the result is what
// snapshot_build would serve for the same inputs.
struct snapshot *snapshot_update(struct snapshot *prev, const struct bootstrap *b,
				 const struct istio_config *cfg, const struct snap_secrets *sec,
				 char *err, size_t err_len);

// snapshot_dump appends the snapshot as JSON (the /config_dump body).
int snapshot_dump(const struct snapshot *s, struct buf *out);

// snapshot_expand_host resolves a host reference the way Istio does for
// VirtualService and DestinationRule fields: a name without a dot becomes
// name.ns.svc.<domain>; anything else is taken as written (lowercased).
char *snapshot_expand_host(struct arena *a, const char *host, const char *ns,
			   const char *domain);

#endif
