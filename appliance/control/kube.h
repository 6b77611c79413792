// SPDX-License-Identifier: Apache-2.0
// kube.h: the Kubernetes API as a configuration source. Each watched
// resource (Services, EndpointSlices, Pods, Namespaces and the Istio kinds,
// cluster-wide or per configured namespace) is listed (in pages) and then
// watched from the list's resourceVersion, over its own HTTPS connection on
// the control ring: bearer token or client certificate, the API server's CA
// checked, bookmarks asked for, a watch that ends resumed from the last
// resourceVersion, a 410 Gone relisted, a failure retried with exponential
// back-off capped at 5 s. Every response is parsed as strict JSON.
//
// What the watches hold is turned into configuration at each rebuild
// (kube_append): the Istio resources are validated one by one as istiod's
// controller does (a bad one is skipped and reported, the others apply),
// and every Service becomes a ServiceEntry of its endpoints (EndpointSlice
// ready endpoints, the pods' labels and service accounts), as istiod's
// Kubernetes registry models them.
#ifndef MG_CONTROL_KUBE_H
#define MG_CONTROL_KUBE_H

#include <stdbool.h>
#include <stdint.h>

#include "config/istio.h"

struct control;
struct buf;
struct kube;

// kube_start reads the connection settings ([kubernetes] kubeconfig,
// $KUBECONFIG, or the in-cluster service account) and starts every watch
// on the control ring. changed(ctl) runs (once per burst of changes) when
// what the watches hold changed. It returns 0 or -errno with the reason
// logged and put in err.
int kube_start(struct control *ctl, void (*changed)(struct control *ctl), char *err,
	       size_t err_len);

// kube_stop closes every connection (drain); kube_free releases the rest.
void kube_stop(struct kube *k);
void kube_free(struct kube *k);

// kube_append adds what the watches hold to cfg: Istio resources (each one
// validated alone; bad ones are skipped, logged once per version and
// counted) and the registry's Services as ServiceEntries. It returns 0 or
// -ENOMEM.
int kube_append(struct kube *k, struct istio_config *cfg);

// kube_append_endpoints is kube_append for a burst of changes that can
// only have moved endpoints (EndpointSlices, pods' labels and service
// accounts): it adds to part the ServiceEntries of the Services concerned
// only, for istio_config_take_endpoints. It returns 0, or -ESRCH when
// anything else changed since the last kube_append (or a Service's entry
// came out otherwise than made): the caller then takes the full way.
int kube_append_endpoints(struct kube *k, struct istio_config *part);

// kube_synced says every watch listed once (or found its kind not served).
bool kube_synced(const struct kube *k);

// kube_mesh_synced says the istio ConfigMap's watch listed once (or found
// ConfigMaps not served): kube_mesh_config then says whether there is one.
bool kube_mesh_synced(const struct kube *k);

// kube_mesh_config returns the `mesh` key of the istio ConfigMap in
// istio-system (its length in *len, the ConfigMap's resourceVersion in
// rv), or NULL when there is none. Valid until the next ring turn.
const char *kube_mesh_config(const struct kube *k, size_t *len, char *rv, size_t rv_len);

// kube_appended_synced says the last kube_append had every first list
// (so the configuration it went into holds a complete view).
bool kube_appended_synced(const struct kube *k);

// kube_syncz appends /syncz's entries for the watches: JSON objects, each
// preceded by a comma.
void kube_syncz(const struct kube *k, struct buf *out);

// kube_service_json writes the ServiceEntry (JSON) that stands for a
// Kubernetes Service: host <name>.<ns>.svc.<domain>, the cluster IP, TCP
// ports with their protocol (kube_port_protocol), and the ready endpoints
// of slices (EndpointSlice objects) with their pods' labels and service
// account (pods(arg, "ns/name") finds a pod, NULL when unknown; pods may be
// NULL); ExternalName as resolution DNS; the networking.istio.io/exportTo
// annotation. It returns false (out is then partial) when the Service has
// nothing to route: no name, namespace or spec, no TCP port.
struct ynode;
typedef const struct ynode *kube_pod_lookup(void *arg, const char *ns_name);
bool kube_service_json(const char *domain, const struct ynode *svc,
		       const struct ynode *const *slices, int num_slices, kube_pod_lookup *pods,
		       void *pods_arg, struct buf *out);

// kube_port_protocol is Istio's protocol for a Kubernetes Service port:
// appProtocol first, else the port name's prefix ("http-web", "grpc");
// NULL when neither says (Istio then detects it).
const char *kube_port_protocol(const char *app_protocol, const char *port_name);

// kube_token_review asks the API server (TokenReview, the audience given)
// who a bearer token belongs to. cb runs once, later, on the control ring:
// err 0 with the service account's namespace and name, or -errno with the
// reason. It returns NULL when no review can start (no Kubernetes source,
// no address); kube_review_cancel stops it, cb never runs then.
struct kube_review;
typedef void kube_review_cb(void *arg, int err, const char *ns, const char *sa, const char *why);
struct kube_review *kube_token_review(struct kube *k, const char *token, size_t len,
				      const char *audience, kube_review_cb *cb, void *arg);
void kube_review_cancel(struct kube_review *r);

#endif
