// SPDX-License-Identifier: Apache-2.0
// control.h: the control thread: loads configuration, builds and publishes
// snapshots, reclaims old ones once every worker has moved past them,
// handles SIGHUP (reload) and SIGTERM/SIGINT (drain), and runs the admin,
// health and Prometheus servers on its own ring.
#ifndef MG_CONTROL_CONTROL_H
#define MG_CONTROL_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

#include "ca/ca.h"
#include "config/bootstrap.h"
#include "config/istio.h"
#include "config/mesh.h"
#include "control/ca_service.h"
#include "control/dns.h"
#include "core/snapshot.h"
#include "kernel-bypass/ring.h"
#include "kernel-bypass/sock.h"

struct worker;

struct retired {
	struct snapshot *snap;
	uint64_t gen;		// reclaimable once every worker has seen this gen
};

struct control {
	struct ring ring;
	const struct bootstrap *boot;	// &eff
	struct bootstrap base;		// as the bootstrap file gave it
	struct bootstrap eff;		// under MeshConfig
	struct mesh_config mesh_file, mesh_kube;	// [mesh] mesh_config; the istio ConfigMap
	bool have_mesh_file, have_mesh_kube;
	char mesh_kube_rv[32];
	struct snapshot *global;	// published (atomic pointer)
	uint64_t gen;
	struct retired retired[64];
	int num_retired;
	struct worker *workers;
	int num_workers;
	struct ring_event sig;
	bool draining;
	bool stop;
	uint64_t drain_deadline_ms;
	uint64_t reloads, reload_errors;
	bool synced_once;	// every source synced once: ready from then on
	uint64_t last_load_us, last_build_us;	// the last reload's parse and build times
	// snapshots published by a full build and as endpoint patches
	// (snapshot_update); bursts of Kubernetes changes taken as
	// endpoint-only (kube_append_endpoints), and the next build full
	uint64_t full_builds, patches, kube_endpoint_bursts;
	uint64_t published_ns;		// when the last snapshot was published
	bool full_next;
	char last_error[1024];
	uint64_t started_ms;
	// the last configuration that built: certificate rotation rebuilds
	// from it, so a broken file on disk never blocks a rotation
	struct istio_config cfg;
	bool have_cfg;
	struct istio_sources sources;	// the files behind it, to rebuild without rereading
	struct kube *kube;		// the Kubernetes source (NULL: off)
	uint64_t kube_ready_gen;	// the first generation built from every first list
	// the authority and the appliance's own identity
	struct ca ca;
	bool ca_ok;
	struct tls_identity *identity;	// current SVID (NULL if the CA failed)
	struct tls_bundle *bundle;	// mesh trust bundle
	struct ring_timer rotate;
	// the authority waits for the istio ConfigMap (identity_late_start)
	bool identity_deferred;
	struct ring_timer identity_wait;
	uint64_t rotations, rotation_errors;
	uint64_t ca_reloads, ca_reload_errors;	// authority files changed on SIGHUP
	// the signing service on [ca] port
	struct ca_service ca_svc;
	struct sock_listener ca_listener;
	struct tls_server *ca_tls;
	struct tls_identity *ca_serving;	// istiod.istio-system.svc certificate
	uint32_t ca_conns;
	// ServiceEntry host names (dns.c)
	struct dns dns;
	// the config directory's inotify watch (watch.c)
	struct ring_event watch;
	int watch_wd;
	struct ring_timer watch_settle, watch_retry;
};

// watch_start follows config_dir with inotify: changes reload it (as SIGHUP
// does, without the authority) once they settle. watch_stop ends that.
int watch_start(struct control *ctl);
void watch_stop(struct control *ctl);

// control_rebuild builds a snapshot from the last good configuration and
// the current certificates, and publishes it if anything changed.
int control_rebuild(struct control *ctl);

// ca_server_start opens the signing service (ca_server.c); ca_server_stop
// closes its listener (drain).
int ca_server_start(struct control *ctl);
void ca_server_stop(struct control *ctl);
int ca_server_refresh_cert(struct control *ctl);

// control_load builds a snapshot from the bootstrap's config dir; on
// success it is published. It returns 0 or -EINVAL (errors logged, the last
// good snapshot keeps serving).
int control_load(struct control *ctl);

// control_run runs meshgate until drained: it returns the exit status.
int control_run(const struct bootstrap *b);

#endif
