// SPDX-License-Identifier: Apache-2.0
// analyze.c: `meshgate analyze PATH... [-f FILE]...`, Istio's resources
// checked against each other and the Kubernetes objects given with them, as
// `istioctl analyze --use-kube=false` does (config/analyze.h has the checks).
// Messages go to stdout, as istioctl prints them or as its JSON; inputs that
// cannot be used go to stderr. Exit status: 2 when anything is an Error
// (an Error-level message, a schema error, unreadable YAML, a resource
// defined twice) or on misuse; 1 when nothing is an Error but a message is
// at or above the failure threshold (Warning with --fail-on-warning); else 0.
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "config/analyze.h"
#include "config/istio.h"
#include "config/yaml.h"

enum out_format { OUT_TEXT = 0, OUT_JSON };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: meshgate analyze PATH... [-f FILE]... [--namespace NS] [-o text|json]\n"
		"                        [--fail-on-warning | --failure-threshold Error|Warning|Info]\n"
		"                        [--output-threshold Error|Warning|Info]\n"
		"  checks Istio resources against each other and against the Kubernetes\n"
		"  Services, Pods, Deployments (pod templates) and Namespaces given with them\n"
		"  (PATH or -f: files, directories, - for stdin), offline, with istioctl\n"
		"  analyze's message codes (IST0101 ...) and meshgate's (MG0001 ...).\n"
		"  --namespace NS   namespace of resources that name none (default \"default\");\n"
		"                   only messages about that namespace are shown (unless -A)\n"
		"  exit 0: no Error; 1: no Error but a message at or above the failure\n"
		"  threshold (Warning with --fail-on-warning; default Error); 2: an Error\n"
		"  (message, schema error, unreadable input) or misuse\n");
}

// read_stream reads a whole file (or stdin for "-") into a malloc'd buffer.
static int read_stream(const char *path, char **out, size_t *out_len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	size_t len = 0, cap = 1 << 16;
	char *buf;
	int err = 0;

	if (!f)
		return -errno;
	if (!(buf = malloc(cap))) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		size_t got;

		if (len == cap) {
			char *nb = cap <= YTREE_MAX_FILE ? realloc(buf, cap * 2) : NULL;

			if (!nb) {
				err = cap > YTREE_MAX_FILE ? -EFBIG : -ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (!got) {
			if (ferror(f))
				err = -EIO;
			break;
		}
	}
	if (err) {
		free(buf);
		buf = NULL;
	}
	*out = buf;
	*out_len = len;
out:
	if (f != stdin)
		fclose(f);
	return err;
}

static int add_file(struct analyze *a, const char *path)
{
	char *data = NULL;
	size_t len = 0;
	int err = read_stream(path, &data, &len);

	if (err == -ENOMEM)
		return err;
	if (err < 0)
		return analyze_add_problem(a, "%s: %s", path, strerror(-err));
	err = analyze_add_buf(a, path, data, len);
	free(data);
	return err == -ENOMEM ? err : 0;
}

static int name_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

// add_dir reads the files `meshgate validate` reads in a directory: *.yaml,
// *.yml and *.json, not hidden, sorted, not recursive.
static int add_dir(struct analyze *a, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t num = 0;
	int err = 0;

	if (!d)
		return analyze_add_problem(a, "%s: %s", dir, strerror(errno));
	while ((de = readdir(d))) {
		char **nn;

		if (!istio_wanted_file(de->d_name))
			continue;
		if (!(nn = realloc(names, (num + 1) * sizeof(*names)))) {
			err = -ENOMEM;
			break;
		}
		names = nn;
		if (!(names[num] = strdup(de->d_name))) {
			err = -ENOMEM;
			break;
		}
		num++;
	}
	closedir(d);
	if (names)
		qsort(names, num, sizeof(*names), name_cmp);
	for (size_t i = 0; i < num; i++) {
		char path[PATH_MAX];
		struct stat st;
		int n = snprintf(path, sizeof(path), "%s/%s", dir, names[i]);

		if (!err && (n < 0 || (size_t)n >= sizeof(path)))
			err = analyze_add_problem(a, "%s/%s: path too long", dir, names[i]);
		else if (!err && stat(path, &st) == 0 && S_ISREG(st.st_mode))
			err = add_file(a, path);
		free(names[i]);
	}
	free(names);
	return err;
}

static int add_path(struct analyze *a, const char *path)
{
	struct stat st;

	if (strcmp(path, "-") && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return add_dir(a, path);
	return add_file(a, path);
}

static void json_str(const char *s)
{
	putchar('"');
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\')
			printf("\\%c", *c);
		else if (*c == '\n')
			printf("\\n");
		else if (*c == '\t')
			printf("\\t");
		else if (*c < 0x20)
			printf("\\u%04x", *c);
		else if (*c == '<' || *c == '>' || *c == '&')
			printf("\\u%04x", *c);	// as Go's encoding/json
		else
			putchar(*c);
	}
	putchar('"');
}

static void print_text(const struct analyze_msg *m)
{
	printf("%s [%s]", analyze_level_name(m->level), m->code);
	if (m->kind)
		printf(" (%s %s/%s %s:%d)", m->kind, m->ns, m->name, m->file, m->line);
	else if (m->file)
		printf(" (%s:%d)", m->file, m->line);
	printf(" %s\n", m->text);
}

// print_json prints one message as istioctl's -o json does (diag.Message's
// fields, keys sorted as Go's encoder sorts a map's).
static void print_json(const struct analyze_msg *m, bool first)
{
	char low[16];
	size_t i;

	printf("%s\n\t{\n\t\t\"code\": ", first ? "" : ",");
	json_str(m->code);
	if (!strncmp(m->code, "IST", 3)) {
		for (i = 0; m->code[i] && i < sizeof(low) - 1; i++)
			low[i] = (char)(m->code[i] | 0x20);
		low[i] = '\0';
		printf(",\n\t\t\"documentationUrl\": \"https://istio.io/latest/docs/reference/config/"
		       "analysis/%s/\"", low);
	}
	printf(",\n\t\t\"level\": ");
	json_str(analyze_level_name(m->level));
	printf(",\n\t\t\"message\": ");
	json_str(m->text);
	if (m->kind) {
		char origin[1024];

		snprintf(origin, sizeof(origin), "%s %s/%s", m->kind, m->ns, m->name);
		printf(",\n\t\t\"origin\": ");
		json_str(origin);
	}
	if (m->file) {
		char ref[PATH_MAX + 16];

		snprintf(ref, sizeof(ref), "%s:%d", m->file, m->line);
		printf(",\n\t\t\"reference\": ");
		json_str(ref);
	}
	printf("\n\t}");
}

static int need_arg(int argc, char **argv, int i)
{
	if (i + 1 >= argc) {
		fprintf(stderr, "meshgate analyze: %s needs a value\n", argv[i]);
		return -1;
	}
	return 0;
}

int cli_analyze(int argc, char **argv)
{
	struct analyze a = { 0 };
	enum analyze_level fail_at = ANALYZE_ERROR, show_at = ANALYZE_INFO;
	enum out_format fmt = OUT_TEXT;
	const char **inputs;
	int num_inputs = 0, rc = 0, counts[3] = { 0 }, shown = 0;
	bool any_error;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (!(inputs = calloc((size_t)argc, sizeof(*inputs)))) {
		fprintf(stderr, "meshgate analyze: out of memory\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];

		if (!strcmp(o, "-f") || !strcmp(o, "--filename")) {
			if (need_arg(argc, argv, i) < 0)
				goto misuse;
			inputs[num_inputs++] = argv[++i];
		} else if (!strcmp(o, "-n") || !strcmp(o, "--namespace")) {
			if (need_arg(argc, argv, i) < 0)
				goto misuse;
			a.ns = argv[++i];
		} else if (!strncmp(o, "--namespace=", 12)) {
			a.ns = o + 12;
		} else if (!strcmp(o, "-o") || !strcmp(o, "--output")) {
			const char *v;

			if (need_arg(argc, argv, i) < 0)
				goto misuse;
			v = argv[++i];
			if (!strcmp(v, "text") || !strcmp(v, "log")) {
				fmt = OUT_TEXT;
			} else if (!strcmp(v, "json")) {
				fmt = OUT_JSON;
			} else {
				fprintf(stderr, "meshgate analyze: -o %s: not text or json\n", v);
				goto misuse;
			}
		} else if (!strcmp(o, "--fail-on-warning")) {
			fail_at = ANALYZE_WARNING;
		} else if (!strcmp(o, "--failure-threshold") || !strcmp(o, "--output-threshold")) {
			enum analyze_level *l = o[2] == 'f' ? &fail_at : &show_at;

			if (need_arg(argc, argv, i) < 0)
				goto misuse;
			if (analyze_parse_level(argv[++i], l) < 0) {
				fprintf(stderr, "meshgate analyze: %s %s: not Error, Warning or Info\n", o,
					argv[i]);
				goto misuse;
			}
		} else if (!strcmp(o, "-A") || !strcmp(o, "--all-namespaces")) {
			a.all_namespaces = true;	// the default without --namespace
		} else if (o[0] == '-' && o[1]) {
			fprintf(stderr, "meshgate analyze: unknown option %s\n", o);
			goto misuse;
		} else {
			inputs[num_inputs++] = o;
		}
	}
	if (!num_inputs) {
		fprintf(stderr, "meshgate analyze: no PATH or -f FILE to analyze\n");
		goto misuse;
	}
	if (a.ns && !*a.ns) {
		fprintf(stderr, "meshgate analyze: --namespace needs a name\n");
		goto misuse;
	}
	for (int i = 0; i < num_inputs && rc == 0; i++)
		rc = add_path(&a, inputs[i]);
	if (rc == 0)
		rc = analyze_run(&a);
	if (rc < 0) {
		fprintf(stderr, "meshgate analyze: %s\n", strerror(-rc));
		analyze_cleanup(&a);
		free(inputs);
		return 2;
	}
	for (int i = 0; i < a.num_problems; i++)
		fprintf(stderr, "%s\n", a.problems[i]);
	if (fmt == OUT_JSON)
		printf("[");
	for (int i = 0; i < a.num_msgs; i++) {
		const struct analyze_msg *m = &a.msgs[i];

		counts[m->level]++;
		if (m->level > show_at)
			continue;
		if (fmt == OUT_JSON)
			print_json(m, !shown);
		else
			print_text(m);
		shown++;
	}
	if (fmt == OUT_JSON)
		printf(shown ? "\n]\n" : "]\n");
	fflush(stdout);		// messages before the summary on a shared terminal
	any_error = counts[ANALYZE_ERROR] || a.num_problems;
	if (any_error)
		rc = 2;
	else if ((fail_at >= ANALYZE_WARNING && counts[ANALYZE_WARNING]) ||
		 (fail_at >= ANALYZE_INFO && counts[ANALYZE_INFO]))
		rc = 1;
	if (!shown && !a.num_problems) {
		fprintf(stderr, "\u2714 No validation issues found when analyzing");
		for (int i = 0; i < num_inputs; i++)
			fprintf(stderr, " %s", inputs[i]);
		fprintf(stderr, ".\n");
	} else if (rc) {
		fprintf(stderr, "Error: Analyzers found issues: %d error%s, %d warning%s, %d info",
			counts[0] + a.num_problems, counts[0] + a.num_problems == 1 ? "" : "s",
			counts[1], counts[1] == 1 ? "" : "s", counts[2]);
		if (a.num_problems)
			fprintf(stderr, " (%d input%s could not be used)", a.num_problems,
				a.num_problems == 1 ? "" : "s");
		fprintf(stderr, ".\nSee https://istio.io/latest/docs/reference/config/analysis for "
			"causes and resolutions.\n");
	}
	analyze_cleanup(&a);
	free(inputs);
	return rc;
misuse:
	usage(stderr);
	free(inputs);
	return 2;
}
