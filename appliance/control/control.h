// SPDX-License-Identifier: Apache-2.0
// control.h: the control thread: loads configuration, builds and publishes
// snapshots, reclaims old ones once every worker has moved past them,
// handles SIGHUP (reload) and SIGTERM/SIGINT (drain), and runs the admin,
// health and Prometheus servers on its own ring.
#ifndef MG_CONTROL_CONTROL_H
#define MG_CONTROL_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

#include "config/bootstrap.h"
#include "core/snapshot.h"
#include "kernel-bypass/ring.h"

struct worker;

struct retired {
	struct snapshot *snap;
	uint64_t gen;		// reclaimable once every worker has seen this gen
};

struct control {
	struct ring ring;
	const struct bootstrap *boot;
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
	char last_error[1024];
	uint64_t started_ms;
};

// control_load builds a snapshot from the bootstrap's config dir; on
// success it is published. It returns 0 or -EINVAL (errors logged, the last
// good snapshot keeps serving).
int control_load(struct control *ctl);

// control_run runs meshgate until drained: it returns the exit status.
int control_run(const struct bootstrap *b);

#endif
