// SPDX-License-Identifier: Apache-2.0
// ring_test: the io_uring engine on its own: timer heap ordering and
// cancellation, a loopback echo through multishot accept/recv and the send
// queue, recv pause/resume (backpressure), EOF and the close lifecycle.
// Exits 77 when the kernel has no usable io_uring.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/bug.h"
#include "core/clock.h"
#include "kernel-bypass/ring.h"
#include "kernel-bypass/sock.h"

static int failures;
#define CHECK(c) do { if (!(c)) { printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)

static struct ring R;

// ---- timers
static int order[8], norder;
struct tt { struct ring_timer t; int id; };
static void tfire(struct ring_timer *t)
{
	order[norder++] = container_of(t, struct tt, t)->id;
}

static void test_timers(void)
{
	struct tt ts[6];
	int delays[6] = { 30, 10, 50, 20, 40, 60 };

	for (int i = 0; i < 6; i++) {
		memset(&ts[i], 0, sizeof(ts[i]));
		ts[i].id = i;
		ring_timer_set(&R, &ts[i].t, (uint64_t)delays[i], tfire);
	}
	ring_timer_cancel(&R, &ts[4].t);		// 40 ms never fires
	ring_timer_set(&R, &ts[5].t, 5, tfire);		// re-armed earlier
	uint64_t end = clock_mono_ms() + 500;
	while (norder < 5 && clock_mono_ms() < end)
		ring_run_once(&R, true);
	int want[5] = { 5, 1, 3, 0, 2 };
	CHECK(norder == 5);
	for (int i = 0; i < 5 && i < norder; i++)
		CHECK(order[i] == want[i]);
	CHECK(!ring_timer_armed(&ts[4].t));
}

// ---- echo server on the ring
struct echo {
	struct sock s;
	int closed;
	size_t got;
};
static struct echo *srv_conn;
static int srv_closed;

static void e_recv(struct sock *s, const char *d, size_t n)
{
	struct echo *e = container_of(s, struct echo, s);

	e->got += n;
	sock_send(s, d, n);
}
static void e_eof(struct sock *s, int err) { sock_close(s, true); }
static void e_closed(struct sock *s) { srv_closed++; free(container_of(s, struct echo, s)); srv_conn = NULL; }
static const struct sock_ops e_ops = { .recv = e_recv, .eof = e_eof, .send_error = e_eof, .closed = e_closed };

static void on_acc(struct sock_listener *l, int fd)
{
	struct echo *e = calloc(1, sizeof(*e));

	sock_init(&e->s, &R, fd, &e_ops);
	srv_conn = e;
	sock_recv_start(&e->s);
}

static void run_until(int *flag, int ms)
{
	uint64_t end = clock_mono_ms() + (uint64_t)ms;

	while (!*flag && clock_mono_ms() < end)
		ring_run_once(&R, false), usleep(200);
}

static void test_echo(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	static struct sock_listener l;
	char buf[70000], back[70000];
	int fd, lfd, one = 1;
	ssize_t n;
	size_t got = 0;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = sock_listen_fd((struct sockaddr *)&a, sizeof(a), 16);
	CHECK(lfd >= 0);
	getsockname(lfd, (struct sockaddr *)&a, &al);
	l.on_accept = on_acc;
	sock_listener_start(&l, &R, lfd);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	int have = 0;
	for (int i = 0; i < 200 && !srv_conn; i++)
		ring_run_once(&R, false), usleep(1000);
	have = srv_conn != NULL;
	CHECK(have);
	if (!have)
		return;
	// pause: data written now must not be consumed by the ring
	sock_recv_stop(&srv_conn->s);
	for (int i = 0; i < 20; i++)
		ring_run_once(&R, false), usleep(1000);
	size_t before = srv_conn->got;
	CHECK(write(fd, "ping", 4) == 4);
	for (int i = 0; i < 30; i++)
		ring_run_once(&R, false), usleep(1000);
	CHECK(srv_conn->got == before);
	sock_recv_start(&srv_conn->s);
	for (int i = 0; i < 200 && srv_conn->got < before + 4; i++)
		ring_run_once(&R, false), usleep(1000);
	CHECK(srv_conn->got == before + 4);
	n = 0;
	for (int i = 0; i < 2000 && n <= 0; i++) {
		ring_run_once(&R, false);
		n = recv(fd, back, 4, MSG_DONTWAIT);
		if (n <= 0)
			usleep(500);
	}
	CHECK(n == 4 && !memcmp(back, "ping", 4));
	// a large write comes back whole and in order through provided buffers
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &one, sizeof(one));
	CHECK(write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf));
	uint64_t end = clock_mono_ms() + 3000;
	while (got < sizeof(buf) && clock_mono_ms() < end) {
		ring_run_once(&R, false);
		n = recv(fd, back + got, sizeof(back) - got, MSG_DONTWAIT);
		if (n > 0)
			got += (size_t)n;
		else
			usleep(200);
	}
	CHECK(got == sizeof(buf) && !memcmp(buf, back, sizeof(buf)));
	// EOF from the client closes the server side; .closed runs once
	shutdown(fd, SHUT_WR);
	run_until(&srv_closed, 2000);
	CHECK(srv_closed == 1);
	CHECK(recv(fd, back, 1, MSG_DONTWAIT) == 0);
	close(fd);
	sock_listener_stop(&l);
	for (int i = 0; i < 10; i++)
		ring_run_once(&R, false);
}

int main(void)
{
	struct ring_features f;

	if (ring_probe(&f) < 0) {
		printf("ring_test: io_uring unavailable, skipped\n");
		return 77;
	}
	if (ring_init(&R, 64, 16, 4096, &f) < 0) {
		printf("ring_test: ring_init failed, skipped\n");
		return 77;
	}
	sock_attach(&R);
	test_timers();
	test_echo();
	ring_exit(&R);
	printf("%s\n", failures ? "ring_test: FAILED" : "ring_test: ok");
	return failures ? 1 : 0;
}
