// SPDX-License-Identifier: Apache-2.0
// serving.h: server certificates the authority issues for the appliance's
// own TLS endpoints (the signing service on :15012 names
// istiod.istio-system.svc, as Istio agents expect), with DNS and IP SANs.
// Workload identities go through ca_issue instead.
#ifndef MG_CA_SERVING_H
#define MG_CA_SERVING_H

#include "ca.h"

enum { SERVING_MAX_NAMES = 32 };

// ca_issue_serving generates a P-256 key and a serverAuth certificate for
// the DNS names and IP literals given (at least one), valid ttl_s from now
// (clamped to the signer). It returns 0 or -errno with a reason in err.
int ca_issue_serving(struct ca *ca, const char *const *dns, int num_dns,
		     const char *const *ips, int num_ips, int64_t ttl_s, int64_t now,
		     X509 **out_cert, EVP_PKEY **out_key, char *err, size_t err_len);

#endif
