// SPDX-License-Identifier: Apache-2.0
// kube_exec.c: kubeconfig exec credential plugins (see kube_exec.h).
#include "kube_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config/json.h"
#include "config/yaml.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/json.h"

extern char **environ;

static const char *const versions[] = {
	"client.authentication.k8s.io/v1",
	"client.authentication.k8s.io/v1beta1",
};

static const char *scalar(const struct ynode *map, const char *key)
{
	const struct ynode *n = yaml_tree_map_get(map, key);

	return n && n->type == YN_SCALAR && !yaml_tree_is_null(n) ? n->str : NULL;
}

void kexec_free(struct kexec *x)
{
	for (int i = 0; x->argv[i]; i++)
		free(x->argv[i]);
	for (int i = 0; x->env[i]; i++)
		free(x->env[i]);
	free(x->exec_info);
	memset(x, 0, sizeof(*x));
}

int kexec_config(struct kexec *x, const struct ynode *exec, const char *dir, const char *server,
		 const char *ca_data, char *err, size_t err_len)
{
	const char *v = scalar(exec, "apiVersion"), *cmd = scalar(exec, "command");
	const char *mode = scalar(exec, "interactiveMode");
	const struct ynode *args = yaml_tree_map_get(exec, "args");
	const struct ynode *env = yaml_tree_map_get(exec, "env");
	const struct ynode *pci = yaml_tree_map_get(exec, "provideClusterInfo");
	int provide = 0, n = 0;
	bool known = false;
	struct buf info;

	memset(x, 0, sizeof(*x));
	for (size_t i = 0; v && i < sizeof(versions) / sizeof(versions[0]); i++)
		known |= !strcmp(v, versions[i]);
	if (!known) {
		snprintf(err, err_len, "exec: apiVersion %s is not client.authentication.k8s.io/v1 "
			 "or v1beta1", v ? v : "(none)");
		return -EINVAL;
	}
	if (!cmd || !*cmd) {
		snprintf(err, err_len, "exec: no command");
		return -EINVAL;
	}
	if (mode && !strcmp(mode, "Always")) {
		snprintf(err, err_len, "exec: interactiveMode Always needs a terminal; meshgate "
			 "runs the plugin without one");
		return -EINVAL;
	}
	if (pci && !yaml_tree_is_null(pci) && yaml_tree_scalar_bool(pci, &provide) < 0) {
		snprintf(err, err_len, "exec: provideClusterInfo is not a boolean");
		return -EINVAL;
	}
	snprintf(x->api_version, sizeof(x->api_version), "%s", v);
	// a path with a slash is the kubeconfig's directory's when relative;
	// a bare name is looked up in PATH (posix_spawnp)
	if (strchr(cmd, '/') && cmd[0] != '/') {
		size_t l = strlen(dir) + strlen(cmd) + 2;

		if ((x->argv[0] = malloc(l)))
			snprintf(x->argv[0], l, "%s/%s", dir, cmd);
	} else {
		x->argv[0] = strdup(cmd);
	}
	if (!x->argv[0])
		goto oom;
	if (args && !yaml_tree_is_null(args)) {
		if (args->type != YN_SEQ || args->len > KEXEC_MAX_ARGS) {
			snprintf(err, err_len, "exec: args must be a list of at most %d strings",
				 KEXEC_MAX_ARGS);
			goto bad;
		}
		for (size_t i = 0; i < args->len; i++) {
			if (args->items[i]->type != YN_SCALAR) {
				snprintf(err, err_len, "exec: args[%zu] is not a string", i);
				goto bad;
			}
			if (!(x->argv[1 + i] = strdup(args->items[i]->str)))
				goto oom;
		}
	}
	if (env && !yaml_tree_is_null(env)) {
		if (env->type != YN_SEQ || env->len > KEXEC_MAX_ENV) {
			snprintf(err, err_len, "exec: env must be a list of at most %d name/value pairs",
				 KEXEC_MAX_ENV);
			goto bad;
		}
		for (size_t i = 0; i < env->len; i++) {
			const char *name = scalar(env->items[i], "name");
			const char *value = scalar(env->items[i], "value");
			size_t l;

			if (!name || !*name || strchr(name, '=') || !value) {
				snprintf(err, err_len, "exec: env[%zu] needs a name (without '=') and a value",
					 i);
				goto bad;
			}
			l = strlen(name) + strlen(value) + 2;
			if (!(x->env[n] = malloc(l)))
				goto oom;
			snprintf(x->env[n++], l, "%s=%s", name, value);
		}
	}
	// KUBERNETES_EXEC_INFO: what the plugin is asked for
	buf_init(&info);
	buf_appends(&info, "KUBERNETES_EXEC_INFO={\"apiVersion\":");
	json_append_cstr(&info, v);
	buf_appends(&info, ",\"kind\":\"ExecCredential\",\"spec\":{\"interactive\":false");
	if (provide) {
		buf_appends(&info, ",\"cluster\":{\"server\":");
		json_append_cstr(&info, server ? server : "");
		if (ca_data) {
			buf_appends(&info, ",\"certificate-authority-data\":");
			json_append_cstr(&info, ca_data);
		}
		buf_appends(&info, "}");
	}
	buf_appends(&info, "}}");
	buf_append(&info, "", 1);
	x->exec_info = info.data ? strdup(info.data) : NULL;
	buf_cleanup(&info);
	if (!x->exec_info)
		goto oom;
	return 0;
oom:
	snprintf(err, err_len, "exec: out of memory");
bad:
	kexec_free(x);
	return -EINVAL;
}

int kexec_time(const char *s, int64_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0, oh, om;
	const char *p;
	time_t t;

	if (sscanf(s, "%4d-%2d-%2d%*[Tt]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
	    n < 19 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 ||
	    y < 1970)
		return -EINVAL;
	p = s + n;
	if (*p == '.') {
		if (!(p[1] >= '0' && p[1] <= '9'))
			return -EINVAL;
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	if ((*p == 'Z' || *p == 'z') && !p[1]) {
		*out = (int64_t)t;
		return 0;
	}
	if ((*p == '+' || *p == '-') && sscanf(p + 1, "%2d:%2d", &oh, &om) == 2 &&
	    strlen(p) == 6 && p[3] == ':' && oh <= 23 && om <= 59) {
		int64_t off = (int64_t)oh * 3600 + om * 60;

		*out = (int64_t)t - (*p == '+' ? off : -off);
		return 0;
	}
	return -EINVAL;
}

int kexec_parse(const char *out, size_t len, const char *api_version, char *token, size_t cap,
		int64_t *expiry, char *err, size_t err_len)
{
	struct yaml_tree t;
	struct yaml_error ye;
	const struct ynode *root, *st;
	const char *v, *kind, *tok, *exp;
	int r = -EINVAL;

	if (json_tree_parse(&t, out, len, &ye) < 0) {
		snprintf(err, err_len, "exec: the plugin's output is not JSON (line %d: %s)", ye.line,
			 ye.msg);
		yaml_tree_free(&t);
		return -EINVAL;
	}
	root = t.docs[0];
	v = root->type == YN_MAP ? scalar(root, "apiVersion") : NULL;
	kind = root->type == YN_MAP ? scalar(root, "kind") : NULL;
	st = root->type == YN_MAP ? yaml_tree_map_get(root, "status") : NULL;
	if (!kind || strcmp(kind, "ExecCredential")) {
		snprintf(err, err_len, "exec: the plugin's output is not an ExecCredential");
	} else if (!v || strcmp(v, api_version)) {
		snprintf(err, err_len, "exec: the plugin answered %s, %s was asked", v ? v : "no "
			 "apiVersion", api_version);
	} else if (!st || st->type != YN_MAP) {
		snprintf(err, err_len, "exec: the ExecCredential has no status");
	} else if (!(tok = scalar(st, "token")) || !*tok) {
		snprintf(err, err_len, "exec: the ExecCredential has no status.token%s",
			 scalar(st, "clientCertificateData") ? " (client certificates from a plugin "
			 "are not supported)" : "");
	} else if (strlen(tok) >= cap || strpbrk(tok, "\r\n")) {
		snprintf(err, err_len, "exec: status.token is too long or holds a line break");
	} else if ((exp = scalar(st, "expirationTimestamp")) && kexec_time(exp, expiry) < 0) {
		snprintf(err, err_len, "exec: status.expirationTimestamp %.64s is not RFC 3339", exp);
	} else {
		if (!exp)
			*expiry = 0;
		snprintf(token, cap, "%s", tok);
		r = 0;
	}
	yaml_tree_free(&t);
	return r;
}

// run starts the plugin and reads its stdout into o, within the deadline.
static int run(struct kexec *x, struct buf *o, char *err, size_t err_len)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t sa;
	sigset_t none, dfl;
	int fd[2], status = 0, r, nenv = 0, nx = 0, ne = 0;
	char **envp;
	pid_t pid;
	uint64_t deadline = clock_mono_ns() + (uint64_t)KEXEC_TIMEOUT_MS * 1000000;
	bool eof = false;

	for (; environ && environ[nenv]; nenv++)
		;
	for (; x->env[nx]; nx++)
		;
	if (!(envp = calloc((size_t)nenv + (size_t)nx + 2, sizeof(*envp)))) {
		snprintf(err, err_len, "exec: out of memory");
		return -ENOMEM;
	}
	// the plugin's own env and the exec info win over meshgate's environment
	for (int i = 0; i < nenv; i++) {
		const char *eq = strchr(environ[i], '=');
		bool shadowed = !strncmp(environ[i], "KUBERNETES_EXEC_INFO=", 21);

		for (int j = 0; eq && j < nx && !shadowed; j++)
			shadowed = !strncmp(environ[i], x->env[j], (size_t)(eq - environ[i]) + 1);
		if (!shadowed)
			envp[ne++] = environ[i];
	}
	for (int j = 0; j < nx; j++)
		envp[ne++] = x->env[j];
	envp[ne] = x->exec_info;
	if (pipe2(fd, O_CLOEXEC) < 0) {
		snprintf(err, err_len, "exec: pipe: %s", strerror(errno));
		free(envp);
		return -errno;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
	posix_spawnattr_init(&sa);
	// the control thread blocks and ignores signals the plugin must not
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGINT);
	posix_spawnattr_setsigmask(&sa, &none);
	posix_spawnattr_setsigdefault(&sa, &dfl);
	posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	r = posix_spawnp(&pid, x->argv[0], &fa, &sa, x->argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&sa);
	free(envp);
	close(fd[1]);
	if (r) {
		snprintf(err, err_len, "exec: %s: %s", x->argv[0], strerror(r));
		close(fd[0]);
		return -r;
	}
	while (!eof) {
		uint64_t now = clock_mono_ns();
		struct pollfd p = { fd[0], POLLIN, 0 };
		char chunk[4096];
		ssize_t n;

		if (now >= deadline || poll(&p, 1, (int)((deadline - now) / 1000000) + 1) == 0) {
			snprintf(err, err_len, "exec: %s did not answer in %d s (killed)", x->argv[0],
				 KEXEC_TIMEOUT_MS / 1000);
			kill(pid, SIGKILL);
			r = -ETIMEDOUT;
			break;
		}
		n = read(fd[0], chunk, sizeof(chunk));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			eof = true;
		} else if (buf_avail(o) + (size_t)n > KEXEC_MAX_OUTPUT) {
			snprintf(err, err_len, "exec: %s wrote over %d bytes (killed)", x->argv[0],
				 KEXEC_MAX_OUTPUT);
			kill(pid, SIGKILL);
			r = -EFBIG;
			break;
		} else if (buf_append(o, chunk, (size_t)n) < 0) {
			kill(pid, SIGKILL);
			r = -ENOMEM;
			break;
		}
	}
	close(fd[0]);
	// it closed its stdout: it exits now (or was killed)
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r)
		return r;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(err, err_len, "exec: %s %s %d", x->argv[0],
			 WIFEXITED(status) ? "exited with" : "killed by signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return -EIO;
	}
	return 0;
}

int kexec_token(struct kexec *x, int64_t now, char *out, size_t cap, char *err, size_t err_len)
{
	struct buf o;
	int r;

	// held while valid, with a few seconds for the request under way
	if (x->token[0] && (!x->expiry || now + 10 < x->expiry)) {
		snprintf(out, cap, "%s", x->token);
		return 0;
	}
	x->token[0] = '\0';
	x->runs++;
	buf_init(&o);
	r = run(x, &o, err, err_len);
	if (r == 0)
		r = kexec_parse(buf_head(&o), buf_avail(&o), x->api_version, x->token,
				sizeof(x->token), &x->expiry, err, err_len);
	buf_cleanup(&o);
	if (r < 0) {
		x->token[0] = '\0';
		x->failures++;
		return r;
	}
	snprintf(out, cap, "%s", x->token);
	return 0;
}

void kexec_invalidate(struct kexec *x)
{
	x->token[0] = '\0';
}
