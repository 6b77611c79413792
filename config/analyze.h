// SPDX-License-Identifier: Apache-2.0
// analyze.h: cross-resource checks on Istio configuration, offline, as
// `istioctl analyze --use-kube=false` runs them: Istio resources are loaded
// (and schema-checked) by istio.h, the Kubernetes objects beside them
// (Service, Pod, Deployment and other pod templates, Namespace) make the
// registry and the workloads, and each analyzer reports messages with
// Istio's codes, levels and texts (IST0101, IST0109, IST0173, ...), plus
// meshgate's own MG* codes where Istio has no analyzer.
#ifndef MG_CONFIG_ANALYZE_H
#define MG_CONFIG_ANALYZE_H

#include <stdbool.h>
#include <stddef.h>

// ANALYZE_* are Istio's levels, in its sort order (Error first).
enum analyze_level {
	ANALYZE_ERROR = 0,
	ANALYZE_WARNING,
	ANALYZE_INFO,
};

// analyze_msg is one diagnostic, on one resource. Strings belong to the
// analyze that produced it.
struct analyze_msg {
	enum analyze_level level;
	const char *code;	// "IST0101", "MG0001"
	const char *kind;	// "VirtualService"; NULL: not tied to a resource
	const char *ns, *name;
	const char *file;	// where the resource (or the field) was read
	int line;		// the field's line when known, else the resource's
	const char *text;	// Istio's message text, arguments filled in
};

struct analyze_priv;

// analyze holds inputs, then results. Zero it, set the options, add inputs
// with analyze_add_buf, call analyze_run once, read msgs and problems, then
// analyze_cleanup.
struct analyze {
	// options (before the first analyze_add_buf)
	const char *ns;		// --namespace: the namespace of resources that
				// name none (else "default"), and the only one
				// whose messages are kept (NULL: all)
	bool all_namespaces;	// -A: keep every namespace's messages even so
	// results
	struct analyze_msg *msgs;	// after analyze_run: sorted as istioctl
	int num_msgs;			// sorts them, duplicates dropped
	char **problems;	// inputs that could not be used at all: unreadable
	int num_problems;	// YAML, a resource defined twice ("file:line: what")
	int num_docs;		// documents read
	int num_skipped;	// documents of kinds analyze does not read
	struct analyze_priv *priv;
};

// analyze_add_buf reads one stream of YAML (or JSON) documents: Istio
// resources go to the Istio loader, whose schema errors become IST0106
// messages; Kubernetes Services, Pods, Namespaces and workload controllers
// (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job,
// ReplicationController) feed the registry; a v1 List is read item by item;
// other kinds are counted in num_skipped. name is used in messages. The
// analyze keeps what it needs of data (data itself is borrowed only for the
// call). It returns 0, -EINVAL when the stream is not YAML (a problem is
// recorded) or -ENOMEM.
int analyze_add_buf(struct analyze *a, const char *name, const char *data, size_t len);

// analyze_add_problem records an input that could not be used (for a
// caller's unreadable file). It returns 0 or -ENOMEM.
int analyze_add_problem(struct analyze *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

// analyze_run runs every analyzer over what was added and fills msgs. It
// returns 0 or -ENOMEM.
int analyze_run(struct analyze *a);

// analyze_cleanup frees everything a holds and zeroes it.
void analyze_cleanup(struct analyze *a);

// analyze_level_name returns "Error", "Warning" or "Info".
const char *analyze_level_name(enum analyze_level l);

// analyze_parse_level reads a level name as istioctl's --failure-threshold
// does (case-insensitive). It returns 0 or -EINVAL.
int analyze_parse_level(const char *s, enum analyze_level *out);

// analyze_expand_host resolves a host named in namespace ns as Istio does:
// a name without a dot (and not "*"-prefixed) is a Kubernetes service of that
// namespace, "name.ns.svc.cluster.local"; anything else is taken as written.
// The result is lower case, in buf (truncated to len); it returns buf.
char *analyze_expand_host(char *buf, size_t len, const char *host, const char *ns);

#endif
