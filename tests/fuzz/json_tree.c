// SPDX-License-Identifier: Apache-2.0
// json_tree: libFuzzer target for the strict JSON reader. Whatever parses
// must print back (canonically) into JSON that parses to the same print,
// every node must be well formed, and the tree must go through the Istio
// loader (the Kubernetes source's path) without crashing: an error is fine.
#include "config/istio.h"
#include "config/json.h"
#include "config/yaml.h"
#include "core/buf.h"
#include "core/json.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#define ASSERT(c) do { if (!(c)) __builtin_trap(); } while (0)

static void print(struct buf *o, const struct ynode *n)
{
	switch (n->type) {
	case YN_SCALAR:
		ASSERT(n->str && n->str[n->len] == '\0');
		if (n->tag == YTAG_STR)
			json_append_str(o, n->str, n->len);
		else
			buf_append(o, n->str, n->len);	// number, true/false, null
		break;
	case YN_SEQ:
		buf_appends(o, "[");
		for (size_t i = 0; i < n->len; i++) {
			if (i)
				buf_appends(o, ",");
			print(o, n->items[i]);
		}
		buf_appends(o, "]");
		break;
	case YN_MAP:
		buf_appends(o, "{");
		for (size_t i = 0; i < n->len; i++) {
			ASSERT(n->pairs[i].key->type == YN_SCALAR && n->pairs[i].key->tag == YTAG_STR);
			if (i)
				buf_appends(o, ",");
			json_append_str(o, n->pairs[i].key->str, n->pairs[i].key->len);
			buf_appends(o, ":");
			print(o, n->pairs[i].value);
		}
		buf_appends(o, "}");
		break;
	default:
		ASSERT(0);
	}
	ASSERT(n->line >= 1 && n->col >= 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct yaml_tree t, t2;
	struct yaml_error ye;
	struct buf a, b;
	int r = json_tree_parse(&t, (const char *)data, size, &ye);

	ASSERT(r == 0 || r == -EBADMSG || r == -ENOMEM || r == -EFBIG);
	if (r < 0) {
		ASSERT(t.num_docs == 0);
		yaml_tree_free(&t);
		return 0;
	}
	ASSERT(t.num_docs == 1 && t.docs[0]);
	buf_init(&a);
	buf_init(&b);
	print(&a, t.docs[0]);
	// the printed form parses, and prints the same
	r = json_tree_parse(&t2, buf_head(&a), buf_avail(&a), &ye);
	ASSERT(r == 0);
	print(&b, t2.docs[0]);
	ASSERT(buf_avail(&a) == buf_avail(&b) && !memcmp(buf_head(&a), buf_head(&b), buf_avail(&a)));
	yaml_tree_free(&t2);
	{
		struct istio_config cfg;
		struct istio_error errs[4];
		int nerr = 0;

		memset(&cfg, 0, sizeof(cfg));
		istio_load_node("fuzz", t.docs[0], &cfg, errs, 4, &nerr);
		istio_config_free(&cfg);
	}
	buf_cleanup(&a);
	buf_cleanup(&b);
	yaml_tree_free(&t);
	return 0;
}
