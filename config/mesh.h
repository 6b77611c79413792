// SPDX-License-Identifier: Apache-2.0
// mesh.h: Istio's MeshConfig (the `mesh` key of the `istio` ConfigMap, or a
// mesh.yaml file), read as istiod reads it: YAML over the defaults, unknown
// fields ignored (istiod's non-strict apply), the fields it holds validated.
// The fields meshgate acts on are kept; the rest of MeshConfig is accepted
// and named as not enforced.
#ifndef MG_CONFIG_MESH_H
#define MG_CONFIG_MESH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bootstrap;

enum {
	MESH_SET_TRUST_DOMAIN = 1u << 0,
	MESH_SET_OUTBOUND = 1u << 1,
	MESH_SET_ROOT_NS = 1u << 2,
	MESH_SET_AUTO_MTLS = 1u << 3,
	MESH_SET_CONNECT_TIMEOUT = 1u << 4,
	MESH_SET_ACCESS_LOG = 1u << 5,
};

struct mesh_config {
	unsigned set;			// MESH_SET_*: the fields the document gave
	char trust_domain[256];
	int outbound_policy;		// enum outbound_policy
	char root_namespace[64];
	bool auto_mtls;
	uint32_t connect_timeout_ms;
	char access_log[4096];		// accessLogFile: "" off, "stdout", or a path
	char not_enforced[256];		// fields given that meshgate does not act on
};

// mesh_config_parse reads a MeshConfig document (YAML or JSON) named name
// into *out (zeroed first). It returns 0, or -EINVAL with "name:line: field:
// what is wrong" in err.
int mesh_config_parse(const char *name, const char *data, size_t len, struct mesh_config *out,
		      char *err, size_t err_len);

// mesh_config_apply copies the fields m set into b, except those the
// bootstrap file set itself (b->mesh_ini_set: the INI overrides). It
// returns the MESH_SET_* bits whose value changed in b.
unsigned mesh_config_apply(const struct mesh_config *m, struct bootstrap *b);

#endif
