// SPDX-License-Identifier: Apache-2.0
// control.c: the control thread's loop. Reload = read YAML, validate, build,
// publish; a bad config keeps the last good snapshot. Drain = workers stop
// accepting and finish in-flight requests, bounded by drain_timeout.
#include "control.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "admin/admin.h"
#include "config/istio.h"
#include "config/mesh.h"
#include "control/kube.h"
#include "control/snapshot_build.h"
#include "core/bug.h"
#include "core/clock.h"
#include "core/log.h"
#include "proto/tls.h"
#include "proxy/proxy.h"

enum {
	MAX_CONFIG_ERRORS = 64,
	MAX_TAKEN = 256,	// endpoint-only changes swapped into one configuration
	IDENTITY_WAIT_MS = 10000,	// for the istio ConfigMap's trustDomain
};

static void publish(struct control *ctl, struct snapshot *s)
{
	struct snapshot *old = ctl->global;

	s->gen = ++ctl->gen;
	ctl->published_ns = clock_mono_ns();
	__atomic_store_n(&ctl->global, s, __ATOMIC_RELEASE);
	if (old) {
		if (ctl->num_retired == (int)(sizeof(ctl->retired) / sizeof(ctl->retired[0]))) {
			// Workers this far behind are stuck; never free under them.
			log_emit(LOG_ERR, NULL, "snapshot: too many retired snapshots pending, "
				 "leaking generation %llu", (unsigned long long)old->gen);
		} else {
			ctl->retired[ctl->num_retired].snap = old;
			ctl->retired[ctl->num_retired].gen = s->gen;
			ctl->num_retired++;
		}
	}
	for (int i = 0; i < ctl->num_workers; i++)
		ring_wake(&ctl->workers[i].ring);
}

// reclaim drops the control thread's reference on snapshots that no worker
// can pick up any more; workers' own holds keep in-flight requests safe.
static void reclaim(struct control *ctl)
{
	int j = 0;

	for (int i = 0; i < ctl->num_retired; i++) {
		bool seen = true;

		for (int k = 0; k < ctl->num_workers; k++) {
			struct worker *w = &ctl->workers[k];

			if (__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE) == 2)
				continue;	// exited
			if (__atomic_load_n(&w->seen_gen, __ATOMIC_ACQUIRE) < ctl->retired[i].gen)
				seen = false;
		}
		if (seen)
			snapshot_unref(ctl->retired[i].snap);
		else
			ctl->retired[j++] = ctl->retired[i];
	}
	ctl->num_retired = j;
}

static uint32_t rand_u32(void)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)clock_mono_ns();
	return r;
}

// build_publish builds a snapshot from cfg and the current certificates
// and publishes it unless it is identical to the one serving.
static int build_publish(struct control *ctl, const struct istio_config *cfg)
{
	struct snap_secrets sec = { ctl->identity, ctl->bundle,
				    ctl->dns.started ? dns_resolve : NULL, &ctl->dns };
	struct snapshot *s;
	char why[1024];
	uint64_t t0 = clock_mono_ns();

	// an operator's SIGHUP builds afresh: it may be for files the
	// configuration names (certificates) rather than for the configuration
	s = ctl->full_next ? snapshot_build(ctl->boot, cfg, &sec, why, sizeof(why))
			   : snapshot_update(ctl->global, ctl->boot, cfg, &sec, why, sizeof(why));
	ctl->full_next = false;
	ctl->last_build_us = (clock_mono_ns() - t0) / 1000;
	if (!s) {
		log_emit(LOG_ERR, NULL, "config: %s", why);
		snprintf(ctl->last_error, sizeof(ctl->last_error), "%s", why);
		return -EINVAL;
	}
	if (ctl->global && ctl->global->version == s->version) {
		log_emit(LOG_INFO, NULL, "config: unchanged (version %016llx)",
			 (unsigned long long)s->version);
		snapshot_unref(s);
	} else {
		if (s->base)
			ctl->patches++;
		else
			ctl->full_builds++;
		publish(ctl, s);
		log_emit(LOG_INFO, NULL, "config: snapshot %016llx published (generation %llu, "
			 "%u virtual hosts, %u clusters; load %.1f ms, %s %.1f ms)",
			 (unsigned long long)s->version, (unsigned long long)s->gen, s->num_vhosts,
			 s->num_clusters, (double)ctl->last_load_us / 1000,
			 s->base ? "endpoint patch" : "build", (double)ctl->last_build_us / 1000);
	}
	return 0;
}

// dns_changed: a ServiceEntry host name resolved to other addresses.
static void dns_changed(void *arg)
{
	struct control *ctl = arg;

	if (!ctl->draining)
		control_rebuild(ctl);
}

int control_rebuild(struct control *ctl)
{
	if (!ctl->have_cfg)
		return 0;	// nothing built yet: the first load will
	return build_publish(ctl, &ctl->cfg);
}

// ---- MeshConfig ------------------------------------------------------------

// mesh_file_load reads [mesh] mesh_config (at start and on SIGHUP).
static int mesh_file_load(struct control *ctl)
{
	const char *path = ctl->base.mesh_config;
	char err[512], *data;
	size_t len = 0;
	FILE *f = fopen(path, "re");
	int r;

	if (!f) {
		log_emit(LOG_ERR, NULL, "mesh config %s: %s", path, strerror(errno));
		return -errno;
	}
	data = malloc(1 << 20);
	if (data)
		len = fread(data, 1, (1 << 20) - 1, f);
	fclose(f);
	if (!data)
		return -ENOMEM;
	r = mesh_config_parse(path, data, len, &ctl->mesh_file, err, sizeof(err));
	free(data);
	if (r < 0) {
		log_emit(LOG_ERR, NULL, "mesh config: %s", err);
		return r;
	}
	ctl->have_mesh_file = true;
	if (ctl->mesh_file.not_enforced[0])
		log_emit(LOG_INFO, NULL, "mesh config %s: not enforced: %s", path,
			 ctl->mesh_file.not_enforced);
	return 0;
}

// mesh_refresh recomputes the MeshConfig-driven settings: the bootstrap
// file's, under the ConfigMap's, under mesh.yaml's, under the defaults.
// Settings that only apply at start (trust domain, access log) are
// reported when a later MeshConfig changes them.
static void mesh_refresh(struct control *ctl, bool at_start)
{
	struct bootstrap *e = &ctl->eff;
	const char *text;
	char rv[32], err[512];
	size_t len;
	unsigned changed = 0;
	char td[sizeof(e->trust_domain)], alog[sizeof(e->access_log)];

	memcpy(td, e->trust_domain, sizeof(td));
	memcpy(alog, e->access_log, sizeof(alog));
	e->outbound_policy = ctl->base.outbound_policy;
	memcpy(e->root_namespace, ctl->base.root_namespace, sizeof(e->root_namespace));
	e->auto_mtls = ctl->base.auto_mtls;
	e->connect_timeout_ms = ctl->base.connect_timeout_ms;
	if (ctl->have_mesh_file)
		mesh_config_apply(&ctl->mesh_file, e);
	text = kube_mesh_config(ctl->kube, &len, rv, sizeof(rv));
	if (text && strcmp(rv, ctl->mesh_kube_rv)) {
		struct mesh_config m;

		snprintf(ctl->mesh_kube_rv, sizeof(ctl->mesh_kube_rv), "%s", rv);
		if (mesh_config_parse("kubernetes ConfigMap istio-system/istio: mesh", text, len, &m,
				      err, sizeof(err)) < 0) {
			// keep the last good one, as istiod does
			log_emit(LOG_ERR, NULL, "mesh config: %s (kept the previous one)", err);
			snprintf(ctl->last_error, sizeof(ctl->last_error), "%s", err);
		} else {
			ctl->mesh_kube = m;
			ctl->have_mesh_kube = true;
			if (m.not_enforced[0])
				log_emit(LOG_INFO, NULL, "mesh config (ConfigMap istio): not "
					 "enforced: %s", m.not_enforced);
		}
	} else if (!text && ctl->have_mesh_kube && ctl->kube && kube_synced(ctl->kube)) {
		ctl->have_mesh_kube = false;	// the ConfigMap is gone
		ctl->mesh_kube_rv[0] = '\0';
	}
	if (ctl->have_mesh_kube)
		changed = mesh_config_apply(&ctl->mesh_kube, e);
	if (!at_start) {
		if (strcmp(td, e->trust_domain))
			log_emit(LOG_WARN, NULL, "mesh config: trustDomain %s takes effect at the next "
				 "start (the authority runs as %s)", e->trust_domain, td);
		if (strcmp(alog, e->access_log))
			log_emit(LOG_WARN, NULL, "mesh config: accessLogFile takes effect at the next "
				 "start");
		memcpy(e->trust_domain, td, sizeof(td));
		memcpy(e->access_log, alog, sizeof(alog));
	}
	(void)changed;
}

// taken_too_much says the endpoints swapped into the configuration since
// it was loaded hold too much: the next change loads afresh (a full build)
// and frees them.
static bool taken_too_much(const struct control *ctl)
{
	size_t bytes, own;

	return istio_config_taken(&ctl->cfg, &bytes, &own) >= MAX_TAKEN || bytes > own / 2;
}

// swap_endpoints takes part's endpoints into the last configuration (part
// is freed either way) and publishes the endpoint patch that follows. It
// returns -ESRCH when part is not an endpoint-only change of it.
static int swap_endpoints(struct control *ctl, struct istio_config *part, uint64_t t0)
{
	int r = istio_config_take_endpoints(&ctl->cfg, part);

	istio_config_free(part);
	if (r < 0)
		return r;
	ctl->last_load_us = (clock_mono_ns() - t0) / 1000;
	if (build_publish(ctl, &ctl->cfg) < 0)
		ctl->reload_errors++;	// the last good snapshot serves; the cause is logged
	else
		ctl->last_error[0] = '\0';
	return 0;
}

// files_endpoints applies a change of the config directory that only
// moved ServiceEntry endpoints: the same files, the changed ones parsed
// alone and their endpoints swapped into the last configuration, which
// then builds as an endpoint patch. It returns -ESRCH when the change is
// anything else (or a changed file does not load: the full way reports it).
static int files_endpoints(struct control *ctl)
{
	struct istio_sources now = { 0 };
	struct istio_config part;
	const struct istio_sources *was = &ctl->sources;
	int nerr = 0, r = 0, changed = 0;
	uint64_t t0 = clock_mono_ns();

	if (!ctl->have_cfg || ctl->full_next || taken_too_much(ctl))
		return -ESRCH;
	if (istio_read_dir(ctl->boot->config_dir, &now, NULL, 0, &nerr) < 0)
		return -ESRCH;
	memset(&part, 0, sizeof(part));
	if (now.num != was->num)
		r = -ESRCH;
	for (int i = 0; r == 0 && i < now.num; i++) {
		if (strcmp(now.v[i].name, was->v[i].name)) {
			r = -ESRCH;	// a file came or went
		} else if (now.v[i].len != was->v[i].len ||
			   memcmp(now.v[i].data, was->v[i].data, now.v[i].len)) {
			changed++;
			if (istio_load_buf(now.v[i].name, now.v[i].data, now.v[i].len, &part, NULL, 0,
					   &nerr) < 0)
				r = -ESRCH;
		}
	}
	if (r == 0 && !changed)
		r = -ESRCH;	// touched, not changed: the full way says "unchanged"
	if (r < 0 || (r = swap_endpoints(ctl, &part, t0)) < 0) {
		istio_config_free(&part);
		istio_sources_free(&now);
		return r;
	}
	// the kept files are what later rebuilds (Kubernetes changes) load
	istio_sources_free(&ctl->sources);
	ctl->sources = now;
	return 0;
}

// load_publish builds a configuration from the files (read again from the
// directory when reread, else the last good ones) and what the Kubernetes
// watches hold, and publishes it. A file that fails validation rejects
// the whole change (the last good snapshot keeps serving); a Kubernetes
// object that fails is skipped alone, as istiod's controller does.
static int load_publish(struct control *ctl, bool reread)
{
	struct istio_error *errs = calloc(MAX_CONFIG_ERRORS, sizeof(*errs));
	struct istio_sources srcs = { 0 };
	struct istio_config cfg;
	int nerr = 0, err;
	uint64_t t0;

	if (!errs)
		return -ENOMEM;
	memset(&cfg, 0, sizeof(cfg));
	t0 = clock_mono_ns();
	mesh_refresh(ctl, false);
	if (reread)
		err = istio_load_dir_keep(ctl->boot->config_dir, &cfg, &srcs, errs,
					  MAX_CONFIG_ERRORS, &nerr);
	else
		err = istio_load_sources(&ctl->sources, &cfg, errs, MAX_CONFIG_ERRORS, &nerr);
	if (err == 0)
		err = kube_append(ctl->kube, &cfg);
	ctl->last_load_us = (clock_mono_ns() - t0) / 1000;
	if (err == 0)
		dns_want_config(&ctl->dns, &cfg);	// answers come later: rebuilds
	if (err < 0) {
		for (int i = 0; i < nerr; i++)
			log_emit(LOG_ERR, NULL, "config: %s", errs[i].msg);
		if (!nerr)
			log_emit(LOG_ERR, NULL, "config: %s: %s", ctl->boot->config_dir, strerror(-err));
		snprintf(ctl->last_error, sizeof(ctl->last_error), "%s",
			 nerr ? errs[0].msg : strerror(-err));
		istio_config_free(&cfg);
		istio_sources_free(&srcs);
		goto out_rejected;
	}
	if (build_publish(ctl, &cfg) < 0) {
		istio_config_free(&cfg);
		istio_sources_free(&srcs);
		goto out_rejected;
	}
	if (ctl->have_cfg)
		istio_config_free(&ctl->cfg);
	ctl->cfg = cfg;
	ctl->have_cfg = true;
	if (!ctl->kube_ready_gen && kube_appended_synced(ctl->kube))
		ctl->kube_ready_gen = ctl->global->gen;	// readiness waits for workers to run it
	if (reread) {
		istio_sources_free(&ctl->sources);
		ctl->sources = srcs;
	}
	ctl->last_error[0] = '\0';
	free(errs);
	return 0;
out_rejected:
	ctl->reload_errors++;
	if (ctl->global)
		log_emit(LOG_WARN, NULL, "config: rejected, still serving snapshot %016llx",
			 (unsigned long long)ctl->global->version);
	free(errs);
	return -EINVAL;
}

int control_load(struct control *ctl)
{
	if (files_endpoints(ctl) == 0)
		return 0;
	return load_publish(ctl, true);
}

// kube_endpoints applies a burst of Kubernetes changes that only moved
// endpoints: the entries of the Services concerned are made again and
// their endpoints swapped into the last configuration, which then builds
// as an endpoint patch. It returns -ESRCH when the burst is not that.
static int kube_endpoints(struct control *ctl)
{
	struct istio_config part;
	uint64_t t0 = clock_mono_ns();
	int r;

	// the swapped-in entries stay allocated until a full load: bounded
	if (!ctl->have_cfg || taken_too_much(ctl))
		return -ESRCH;
	memset(&part, 0, sizeof(part));
	r = kube_append_endpoints(ctl->kube, &part);
	if (r == 0 && !part.num_service_entries) {
		istio_config_free(&part);
		return 0;	// a full load took the burst in already
	}
	if (r < 0 || (r = swap_endpoints(ctl, &part, t0)) < 0) {
		istio_config_free(&part);
		return r;
	}
	ctl->kube_endpoint_bursts++;
	return 0;
}

static void identity_late_start(struct control *ctl, bool waited_enough);

// kube_changed: what the Kubernetes watches hold changed (once per burst).
static void kube_changed(struct control *ctl)
{
	if (ctl->identity_deferred && kube_mesh_synced(ctl->kube))
		identity_late_start(ctl, false);
	if (!ctl->draining && kube_endpoints(ctl) < 0)
		load_publish(ctl, false);
}

// ---- the appliance's identity ----------------------------------------------

static void rotate_timer(struct ring_timer *t);

// identity_issue signs a new SVID for the appliance and schedules its
// rotation at half its life, with 1% jitter as Istio's agent does. The old
// identity stays referenced by the snapshots (and so by every connection)
// that use it; new handshakes get the new one once the rebuilt snapshot is
// published.
static int identity_issue(struct control *ctl)
{
	const struct bootstrap *b = ctl->boot;
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	STACK_OF(X509) *chain = sk_X509_new_null();
	struct tls_identity *id;
	char why[256];
	int64_t now = clock_wall_s(), life, delay_s;
	double jitter;
	int err;

	if (!chain)
		return -ENOMEM;
	err = ca_issue_keypair(&ctl->ca, b->namespace_, b->service_account,
			       b->workload_cert_ttl_s, now, &cert, &key, why, sizeof(why));
	if (err < 0) {
		log_emit(LOG_ERR, NULL, "identity: cannot issue the workload certificate: %s", why);
		sk_X509_free(chain);
		return err;
	}
	ca_sent_chain(&ctl->ca, chain);
	id = tls_identity_new(cert, key, chain);
	sk_X509_free(chain);	// the identity took its own references
	X509_free(cert);
	EVP_PKEY_free(key);
	if (!id)
		return -ENOMEM;
	tls_identity_unref(ctl->identity);
	ctl->identity = id;
	life = id->not_after - now;
	if (life < 2)
		life = 2;
	jitter = 1.0 + ((double)(rand_u32() % 2001) - 1000.0) / 100000.0;
	delay_s = (int64_t)((double)life * 0.5 * jitter);
	if (delay_s < 1)
		delay_s = 1;
	ring_timer_set(&ctl->ring, &ctl->rotate, (uint64_t)delay_s * 1000, rotate_timer);
	log_emit(LOG_INFO, NULL, "identity: %s, valid until %lld, rotation in %llds",
		 id->spiffe, (long long)id->not_after, (long long)delay_s);
	return 0;
}

static void rotate_timer(struct ring_timer *t)
{
	struct control *ctl = container_of(t, struct control, rotate);

	if (identity_issue(ctl) < 0) {
		ctl->rotation_errors++;
		// try again soon; the current certificate is still valid
		ring_timer_set(&ctl->ring, &ctl->rotate, 10000, rotate_timer);
		return;
	}
	ctl->rotations++;
	if (control_rebuild(ctl) < 0)
		ctl->rotation_errors++;
	if (ctl->ca_tls)
		ca_server_refresh_cert(ctl);
}

// identity_start opens (or creates) the authority in the state directory
// and issues the appliance's first certificate.
static int identity_start(struct control *ctl)
{
	const struct bootstrap *b = ctl->boot;
	char why[512];
	int err;

	err = ca_open(&ctl->ca, b->state_dir, b->trust_domain, true, clock_wall_s(), why, sizeof(why));
	if (err < 0) {
		log_emit(LOG_ERR, NULL, "ca: %s", why);
		return err;
	}
	ctl->ca_ok = true;
	log_emit(LOG_INFO, NULL, "ca: %s authority in %s (trust domain %s)",
		 ctl->ca.plugged ? "plugged-in" : "self-signed", ctl->ca.dir, b->trust_domain);
	ctl->bundle = tls_bundle_new(b->trust_domain, buf_head(&ctl->ca.bundle_pem),
				     buf_avail(&ctl->ca.bundle_pem));
	if (!ctl->bundle) {
		log_emit(LOG_ERR, NULL, "ca: cannot build the trust bundle from %s/root-cert.pem",
			 ctl->ca.dir);
		return -EINVAL;
	}
	return identity_issue(ctl);
}

// identity_late_start starts the authority and the appliance's identity
// once the istio ConfigMap is known, or could not be waited for any longer:
// istiod reads the mesh's trustDomain before it issues anything, and so
// does meshgate when Kubernetes is a source and the bootstrap file does not
// set trust_domain. The snapshot rebuilt next carries the identity.
static void identity_late_start(struct control *ctl, bool waited_enough)
{
	char alog[sizeof(ctl->eff.access_log)];

	ctl->identity_deferred = false;
	ring_timer_cancel(&ctl->ring, &ctl->identity_wait);
	if (waited_enough)
		log_emit(LOG_WARN, NULL, "identity: no istio ConfigMap yet after %d s; the "
			 "authority starts with trust domain %s", IDENTITY_WAIT_MS / 1000,
			 ctl->eff.trust_domain);
	// nothing was issued yet: the trust domain may still change (the
	// access log may not: the workers opened it)
	memcpy(alog, ctl->eff.access_log, sizeof(alog));
	mesh_refresh(ctl, true);
	if (strcmp(alog, ctl->eff.access_log)) {
		log_emit(LOG_WARN, NULL, "mesh config: accessLogFile takes effect at the next start");
		memcpy(ctl->eff.access_log, alog, sizeof(alog));
	}
	if (identity_start(ctl) < 0) {
		log_emit(LOG_WARN, NULL, "identity: no workload certificate; ISTIO_MUTUAL and "
			 "the signing service are unavailable");
		return;
	}
	if (ctl->ca_ok && ctl->boot->ca_port && !ctl->draining && ca_server_start(ctl) < 0)
		log_emit(LOG_ERR, NULL, "ca: the signing service did not start");
	control_rebuild(ctl);
}

static void identity_wait_timer(struct ring_timer *t)
{
	struct control *ctl = container_of(t, struct control, identity_wait);

	if (ctl->identity_deferred)
		identity_late_start(ctl, true);
}

// ca_reload re-reads the authority's files (SIGHUP). A changed trust bundle
// (root-cert.pem: during a root migration it holds the old and the new
// root) or signing certificate (plug-in ca-cert.pem/ca-key.pem) replaces the
// current one, and the appliance's SVID is reissued from it; the snapshot
// rebuilt next carries both. Connections keep what they negotiated; new
// handshakes verify against the new bundle (resumed sessions too: their
// chain is checked again). A change that does not load is refused and the
// current authority stays.
static void ca_reload(struct control *ctl)
{
	const struct bootstrap *b = ctl->boot;
	struct ca fresh;
	struct tls_bundle *nb;
	char why[512];

	if (!ctl->ca_ok)
		return;
	memset(&fresh, 0, sizeof(fresh));
	if (ca_open(&fresh, b->state_dir, b->trust_domain, false, clock_wall_s(), why,
		    sizeof(why)) < 0) {
		ctl->ca_reload_errors++;
		log_emit(LOG_ERR, NULL, "ca: reload refused, the current authority stays: %s", why);
		return;
	}
	if (!X509_cmp(fresh.cert, ctl->ca.cert) &&
	    buf_avail(&fresh.bundle_pem) == buf_avail(&ctl->ca.bundle_pem) &&
	    !memcmp(buf_head(&fresh.bundle_pem), buf_head(&ctl->ca.bundle_pem),
		    buf_avail(&fresh.bundle_pem))) {
		ca_close(&fresh);
		return;
	}
	nb = tls_bundle_new(b->trust_domain, buf_head(&fresh.bundle_pem),
			    buf_avail(&fresh.bundle_pem));
	if (!nb) {
		ctl->ca_reload_errors++;
		log_emit(LOG_ERR, NULL, "ca: reload refused: root-cert.pem is not a usable trust "
			 "bundle; the current authority stays");
		ca_close(&fresh);
		return;
	}
	ca_close(&ctl->ca);
	ctl->ca = fresh;	// in place: the signing service points at ctl->ca
	tls_bundle_unref(ctl->bundle);
	ctl->bundle = nb;
	ctl->ca_reloads++;
	log_emit(LOG_INFO, NULL, "ca: authority reloaded from %s (%s, trust bundle version "
		 "%016llx)", ctl->ca.dir, ctl->ca.plugged ? "plugged-in" : "self-signed",
		 (unsigned long long)nb->b.version);
	if (identity_issue(ctl) < 0)
		ctl->rotation_errors++;	// the old SVID serves until the retry timer
	if (ctl->ca_tls)
		ca_server_refresh_cert(ctl);
}

static void start_drain(struct control *ctl)
{
	if (ctl->draining)
		return;
	ctl->draining = true;
	ca_server_stop(ctl);
	watch_stop(ctl);
	kube_stop(ctl->kube);
	dns_stop(&ctl->dns);
	ring_timer_cancel(&ctl->ring, &ctl->rotate);
	ctl->drain_deadline_ms = ctl->ring.now_ms + ctl->boot->drain_timeout_ms;
	log_emit(LOG_INFO, NULL, "drain: stop accepting, finishing in-flight requests "
		 "(up to %u ms)", ctl->boot->drain_timeout_ms);
	for (int i = 0; i < ctl->num_workers; i++) {
		__atomic_store_n(&ctl->workers[i].draining, 1, __ATOMIC_RELEASE);
		ring_wake(&ctl->workers[i].ring);
	}
}

static void on_signal(struct ring *r, int res, struct ring_event *ev)
{
	struct control *ctl = container_of(ev, struct control, sig);
	struct signalfd_siginfo *si = (struct signalfd_siginfo *)ev->data;

	if (res == (int)sizeof(*si)) {
		switch (si->ssi_signo) {
		case SIGHUP:
			log_emit(LOG_INFO, NULL, "SIGHUP: reloading %s", ctl->boot->config_dir);
			ctl->reloads++;
			ctl->full_next = true;
			ca_reload(ctl);
			if (ctl->base.mesh_config[0])
				mesh_file_load(ctl);	// an error keeps the last good one
			control_load(ctl);
			break;
		case SIGTERM:
		case SIGINT:
			start_drain(ctl);
			break;
		}
	}
	ring_event_read(r, ev, sizeof(*si));
}

// housekeeping only bounds the loop's wait, so reclaim and the drain
// deadline are looked at every 100 ms even when nothing else happens.
static struct ring_timer g_tick;

static void housekeeping(struct ring_timer *t)
{
}

static bool workers_exited(struct control *ctl)
{
	for (int i = 0; i < ctl->num_workers; i++)
		if (__atomic_load_n(&ctl->workers[i].stop, __ATOMIC_ACQUIRE) != 2)
			return false;
	return true;
}

int control_run(const struct bootstrap *b)
{
	static struct control ctl_storage;
	struct control *ctl = &ctl_storage;
	struct ring_features feat;
	sigset_t mask;
	int n, err;

	memset(ctl, 0, sizeof(*ctl));
	// the effective settings: the bootstrap file over the defaults, under
	// MeshConfig (mesh.yaml, the istio ConfigMap) where the file is silent
	ctl->base = *b;
	ctl->eff = *b;
	b = &ctl->eff;
	ctl->boot = b;
	if (b->mesh_config[0] && mesh_file_load(ctl) < 0)
		return 1;
	mesh_refresh(ctl, true);
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	// blocked before any thread starts, so every thread inherits the mask
	// and the signals reach only the control thread's signalfd
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((err = ring_probe(&feat)) < 0)
		return 1;
	if ((err = ring_init(&ctl->ring, 256, 64, 16 * 1024, &feat)) < 0) {
		log_emit(LOG_ERR, NULL, "control: ring setup failed (%s)", strerror(-err));
		return 1;
	}
	sock_attach(&ctl->ring);
	ctl->started_ms = ctl->ring.now_ms;
	if (dns_start(&ctl->dns, &ctl->ring, b->dns_servers, dns_changed, ctl) < 0)
		log_emit(LOG_WARN, NULL, "dns: no resolver; ServiceEntries with resolution DNS "
			 "get no endpoints from host names");
	// without a CA the appliance still proxies plaintext; TLS listeners
	// that need the SVID fail to build and say why. With Kubernetes, the
	// istio ConfigMap may set the trust domain: the authority waits for it
	// (readiness waits for the identity)
	ctl->identity_deferred = b->kube_enabled && !(b->mesh_ini_set & MESH_SET_TRUST_DOMAIN);
	if (ctl->identity_deferred)
		ring_timer_set(&ctl->ring, &ctl->identity_wait, IDENTITY_WAIT_MS, identity_wait_timer);
	else if (identity_start(ctl) < 0)
		log_emit(LOG_WARN, NULL, "identity: no workload certificate; ISTIO_MUTUAL and "
			 "the signing service are unavailable");
	if (b->kube_enabled) {
		char why[512];

		// the watches start now; their first lists rebuild as they land
		// and readiness waits for all of them
		if (kube_start(ctl, kube_changed, why, sizeof(why)) < 0) {
			log_emit(LOG_ERR, NULL, "kubernetes: %s; not starting", why);
			return 1;
		}
	}
	if (control_load(ctl) < 0) {
		log_emit(LOG_ERR, NULL, "config: the initial configuration is invalid, not starting");
		return 1;
	}
	n = b->workers;
	if (n <= 0)
		n = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (n <= 0)
		n = 1;
	if ((err = workers_start(&ctl->workers, n, b, &ctl->global)) < 0) {
		log_emit(LOG_ERR, NULL, "workers: start failed (%s)", strerror(-err));
		return 1;
	}
	ctl->num_workers = n;
	if ((err = admin_start(ctl)) < 0)
		return 1;
	if (!ctl->identity_deferred && ctl->ca_ok && b->ca_port && (err = ca_server_start(ctl)) < 0)
		return 1;
	ctl->sig.fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	ctl->sig.fn = on_signal;
	ring_event_read(&ctl->ring, &ctl->sig, sizeof(struct signalfd_siginfo));
	watch_start(ctl);
	log_emit(LOG_INFO, NULL, "meshgate running: %d workers, admin %s:%u", n,
		 b->admin_address, b->admin_port);
	ring_timer_set(&ctl->ring, &g_tick, 100, housekeeping);
	for (;;) {
		ring_run_once(&ctl->ring, true);
		if (!ring_timer_armed(&g_tick))
			ring_timer_set(&ctl->ring, &g_tick, 100, housekeeping);
		reclaim(ctl);
		if (ctl->draining) {
			if (workers_exited(ctl))
				break;
			if (ctl->ring.now_ms >= ctl->drain_deadline_ms) {
				log_emit(LOG_WARN, NULL, "drain: deadline reached, closing what is left");
				for (int i = 0; i < ctl->num_workers; i++) {
					__atomic_store_n(&ctl->workers[i].stop, 1, __ATOMIC_RELEASE);
					ring_wake(&ctl->workers[i].ring);
				}
				for (int i = 0; i < ctl->num_workers; i++)
					pthread_join(ctl->workers[i].thread, NULL);
				break;
			}
		}
	}
	for (int i = 0; i < ctl->num_workers; i++)
		pthread_join(ctl->workers[i].thread, NULL);
	log_emit(LOG_INFO, NULL, "drain: done, exiting");
	return 0;
}
