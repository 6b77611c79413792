// SPDX-License-Identifier: Apache-2.0
// watch.c: the file source follows its directory. inotify on config_dir is
// read through the control ring; a burst of changes (an editor's temporary
// file and rename, a Kubernetes ConfigMap's ..data swap, a tool writing
// several files) becomes one reload WATCH_SETTLE_MS after the last event.
// A directory that does not exist yet, or that was removed or replaced, is
// watched again as soon as it is there.
#include <errno.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "config/bootstrap.h"
#include "config/istio.h"
#include "control.h"
#include "core/bug.h"
#include "core/log.h"

enum {
	WATCH_SETTLE_MS = 100,
	WATCH_RETRY_MS = 1000,
	WATCH_MASK = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
		     IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR,
};

static void settle_fire(struct ring_timer *t)
{
	struct control *ctl = container_of(t, struct control, watch_settle);

	if (ctl->draining)
		return;
	log_emit(LOG_INFO, NULL, "config: %s changed, reloading", ctl->boot->config_dir);
	ctl->reloads++;
	control_load(ctl);
}

static void retry_fire(struct ring_timer *t);

static int add_watch(struct control *ctl)
{
	ctl->watch_wd = inotify_add_watch(ctl->watch.fd, ctl->boot->config_dir, WATCH_MASK);
	if (ctl->watch_wd < 0) {
		ring_timer_set(&ctl->ring, &ctl->watch_retry, WATCH_RETRY_MS, retry_fire);
		return -errno;
	}
	return 0;
}

static void retry_fire(struct ring_timer *t)
{
	struct control *ctl = container_of(t, struct control, watch_retry);

	if (ctl->draining || add_watch(ctl) < 0)
		return;
	// whatever the directory holds now was never loaded
	ring_timer_set(&ctl->ring, &ctl->watch_settle, WATCH_SETTLE_MS, settle_fire);
}

// relevant: a change to a file the loader reads, to the directory itself,
// or Kubernetes' ..data link (a ConfigMap update swaps it).
static bool relevant(const struct inotify_event *e)
{
	if (e->mask & (IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
		return true;
	if (!e->len || !e->name[0])
		return true;
	return istio_wanted_file(e->name) || !strcmp(e->name, "..data");
}

static void on_events(struct ring *r, int res, struct ring_event *ev)
{
	struct control *ctl = container_of(ev, struct control, watch);
	bool reload = false, lost = false;

	ev->armed = false;
	if (res < 0) {
		log_emit(LOG_ERR, NULL, "config: watching %s failed (%s); SIGHUP still reloads",
			 ctl->boot->config_dir, strerror(-res));
		return;
	}
	for (int off = 0; off + (int)sizeof(struct inotify_event) <= res;) {
		const struct inotify_event *e = (const void *)(ev->data + off);

		reload |= relevant(e);
		lost |= (e->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) != 0;
		off += (int)sizeof(*e) + (int)e->len;
	}
	if (lost && ctl->watch_wd >= 0) {
		// the directory went away or was replaced: watch the new one
		inotify_rm_watch(ctl->watch.fd, ctl->watch_wd);
		ctl->watch_wd = -1;
		ring_timer_set(&ctl->ring, &ctl->watch_retry, WATCH_RETRY_MS, retry_fire);
	}
	if (reload)
		ring_timer_set(&ctl->ring, &ctl->watch_settle, WATCH_SETTLE_MS, settle_fire);
	ring_event_read(r, ev, sizeof(ev->data));
}

int watch_start(struct control *ctl)
{
	ctl->watch_wd = -1;
	ctl->watch.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ctl->watch.fd < 0) {
		log_emit(LOG_WARN, NULL, "config: inotify unavailable (%s): reload with SIGHUP",
			 strerror(errno));
		return -errno;
	}
	ctl->watch.fn = on_events;
	if (add_watch(ctl) < 0)
		log_emit(LOG_INFO, NULL, "config: %s does not exist yet; watching for it",
			 ctl->boot->config_dir);
	ring_event_read(&ctl->ring, &ctl->watch, sizeof(ctl->watch.data));
	return 0;
}

void watch_stop(struct control *ctl)
{
	ring_timer_cancel(&ctl->ring, &ctl->watch_settle);
	ring_timer_cancel(&ctl->ring, &ctl->watch_retry);
}
