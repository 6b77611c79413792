// SPDX-License-Identifier: Apache-2.0
// kube_exec.h: kubeconfig exec credential plugins (users[].user.exec,
// client.authentication.k8s.io v1 and v1beta1), run as kubectl runs them:
// the command (a relative path is the kubeconfig's directory's, a bare name
// is looked up in PATH) with its args, the environment plus its env and
// KUBERNETES_EXEC_INFO (an ExecCredential naming the version asked and, with
// provideClusterInfo, the cluster), no stdin, stderr passed through; its
// stdout must be an ExecCredential of that version with status.token. The
// token is kept until expirationTimestamp (less a minute) or until the API
// server answers 401, then the plugin runs again. It runs on the control
// thread with a deadline (KEXEC_TIMEOUT_MS): the workers keep serving.
// Client certificates from a plugin are not supported (refused, said why).
#ifndef MG_CONTROL_KUBE_EXEC_H
#define MG_CONTROL_KUBE_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	KEXEC_MAX_ARGS = 64,
	KEXEC_MAX_ENV = 64,
	KEXEC_TIMEOUT_MS = 10000,
	KEXEC_MAX_OUTPUT = 1 << 20,
};

struct kexec {
	char *argv[KEXEC_MAX_ARGS + 2];	// the command, its args, NULL
	char *env[KEXEC_MAX_ENV + 1];	// the plugin's own "NAME=value", NULL
	char api_version[64];
	char *exec_info;		// KUBERNETES_EXEC_INFO=...
	char token[8192];		// "" when none is held
	int64_t expiry;			// unix seconds; 0: until a 401
	uint64_t runs, failures;
};

struct ynode;

// kexec_config reads a kubeconfig's user.exec node (dir: the kubeconfig's
// directory; server and ca_data (base64, may be NULL) for
// provideClusterInfo). It returns 0, or -EINVAL with the reason in err.
int kexec_config(struct kexec *x, const struct ynode *exec, const char *dir, const char *server,
		 const char *ca_data, char *err, size_t err_len);
void kexec_free(struct kexec *x);

// kexec_token writes a bearer token into out: the one held while it is
// valid at now (unix seconds), else the plugin's new one. It returns 0 or
// -errno with the reason in err.
int kexec_token(struct kexec *x, int64_t now, char *out, size_t cap, char *err, size_t err_len);

// kexec_invalidate drops the token held (the API server answered 401).
void kexec_invalidate(struct kexec *x);

// kexec_parse reads a plugin's output: an ExecCredential of api_version
// with status.token (and an optional RFC 3339 status.expirationTimestamp,
// 0 when absent). It returns 0 or -EINVAL with the reason in err.
int kexec_parse(const char *out, size_t len, const char *api_version, char *token, size_t cap,
		int64_t *expiry, char *err, size_t err_len);

// kexec_time parses an RFC 3339 timestamp ("2026-01-02T03:04:05Z", with
// fractional seconds or a numeric offset) into unix seconds: 0 or -EINVAL.
int kexec_time(const char *s, int64_t *out);

#endif
