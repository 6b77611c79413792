// SPDX-License-Identifier: Apache-2.0
// ca_server.c: the signing service's sockets, on the control thread's ring:
// TLS (ALPN h2) with a serving certificate for istiod.istio-system.svc and
// the appliance's own names and addresses, a client certificate optional
// (renewal with a mesh certificate), and the gRPC service of ca_service.c
// over each connection.
#include "control.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca/serving.h"
#include "control/kube.h"
#include "core/bug.h"
#include "core/clock.h"
#include "core/log.h"
#include "proto/tls.h"

enum {
	CA_HANDSHAKE_MS = 10000,	// a connection must finish TLS this fast
	CA_IDLE_MS = 300000,		// and may then idle this long
	CA_MAX_CONNS = 1024,
	SERVING_TTL_S = 24 * 3600,
};

struct ca_conn {
	struct sock s;			// first
	struct control *ctl;
	struct ca_service_conn *svc;
	struct ring_timer timer;
	bool closing;
};

static void conn_close(struct ca_conn *c, bool flush)
{
	if (c->closing)
		return;
	c->closing = true;
	ring_timer_cancel(&c->ctl->ring, &c->timer);
	sock_close(&c->s, flush);
}

static void conn_timeout(struct ring_timer *t)
{
	struct ca_conn *c = container_of(t, struct ca_conn, timer);

	conn_close(c, false);
}

static void conn_recv(struct sock *s, const char *p, size_t len)
{
	struct ca_conn *c = (struct ca_conn *)s;
	int rc;

	if (c->closing || !c->svc)
		return;
	ring_timer_set(&c->ctl->ring, &c->timer, CA_IDLE_MS, conn_timeout);
	rc = ca_service_conn_input(c->svc, p, len, sock_out(s));
	sock_flush(s);
	if (rc < 0 || ca_service_conn_want_close(c->svc))
		conn_close(c, true);
}

static void conn_eof(struct sock *s, int err)
{
	conn_close((struct ca_conn *)s, err == 0);
}

static void conn_send_error(struct sock *s, int err)
{
	conn_close((struct ca_conn *)s, false);
}

static void conn_closed(struct sock *s)
{
	struct ca_conn *c = (struct ca_conn *)s;

	ring_timer_cancel(&c->ctl->ring, &c->timer);
	if (c->svc)
		ca_service_conn_free(c->svc);
	c->ctl->ca_conns--;
	free(c);
}

static const struct sock_ops conn_ops = {
	.recv = conn_recv,
	.eof = conn_eof,
	.send_error = conn_send_error,
	.closed = conn_closed,
};

// conn_wake: an answer was made later (a token review came back).
static void conn_wake(void *owner)
{
	struct ca_conn *c = owner;
	int rc;

	if (c->closing || !c->svc)
		return;
	rc = ca_service_conn_flush(c->svc, sock_out(&c->s));
	sock_flush(&c->s);
	if (rc < 0 || ca_service_conn_want_close(c->svc))
		conn_close(c, true);
}

static void conn_handshake(struct sock *s, struct tls_conn *t, int err)
{
	struct ca_conn *c = (struct ca_conn *)s;

	if (err)
		return;		// .eof(-EPROTO) follows and closes
	c->svc = ca_service_conn_new(&c->ctl->ca_svc, tls_conn_peer_id(t), sock_out(s), conn_wake,
				     c);
	if (!c->svc) {
		conn_close(c, false);
		return;
	}
	ring_timer_set(&c->ctl->ring, &c->timer, CA_IDLE_MS, conn_timeout);
}

static void on_accept(struct sock_listener *l, int fd)
{
	struct control *ctl = l->owner;
	struct ca_conn *c;

	if (ctl->draining || !ctl->ca_tls || ctl->ca_conns >= CA_MAX_CONNS ||
	    !(c = calloc(1, sizeof(*c)))) {
		log_ratelimited(LOG_WARN, NULL, "ca: connection refused (limit %d)", CA_MAX_CONNS);
		close(fd);
		return;
	}
	sock_init(&c->s, &ctl->ring, fd, &conn_ops);
	c->ctl = ctl;
	ctl->ca_conns++;
	if (tls_accept(&c->s, ctl->ca_tls, conn_handshake, NULL, 0) < 0) {
		conn_close(c, false);
		return;
	}
	ring_timer_set(&ctl->ring, &c->timer, CA_HANDSHAKE_MS, conn_timeout);
	sock_recv_start(&c->s);
}

// local_addresses lists the appliance's interface addresses (no NSS, no
// DNS: getifaddrs reads the kernel's netlink answer).
static int local_addresses(char out[][64], int max)
{
	struct ifaddrs *ifa, *i;
	int n = 0;

	if (getifaddrs(&ifa) < 0)
		return 0;
	for (i = ifa; i && n < max; i = i->ifa_next) {
		if (!i->ifa_addr || !(i->ifa_flags & IFF_UP))
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr,
				  out[n], 64);
		else if (i->ifa_addr->sa_family == AF_INET6 &&
			 !IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr))
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
				  out[n], 64);
		else
			continue;
		n++;
	}
	freeifaddrs(ifa);
	return n;
}

int ca_server_refresh_cert(struct control *ctl)
{
	static const char *const alpn[] = { "h2" };
	const struct bootstrap *b = ctl->boot;
	const char *dns[SERVING_MAX_NAMES], *ips[SERVING_MAX_NAMES];
	char addrs[16][64], host[256], svc_domain[300];
	int num_dns = 0, num_ips = 0, n, err;
	struct tls_server_cfg cfg;
	struct tls_server *srv;
	struct tls_identity *id;
	X509 *cert;
	EVP_PKEY *key;
	STACK_OF(X509) *chain;
	char why[512];

	// what Istio agents dial (CA_ADDR istiod.istio-system.svc:15012) and
	// what an operator may: the host name and every local address
	dns[num_dns++] = "istiod.istio-system.svc";
	snprintf(svc_domain, sizeof(svc_domain), "istiod.istio-system.svc.%s", b->trust_domain);
	dns[num_dns++] = svc_domain;
	dns[num_dns++] = "istiod.istio-system";
	dns[num_dns++] = "istiod";
	dns[num_dns++] = "localhost";
	if (gethostname(host, sizeof(host)) == 0 && host[0] && strcmp(host, "localhost"))
		dns[num_dns++] = host;
	n = local_addresses(addrs, 16);
	for (int i = 0; i < n; i++)
		ips[num_ips++] = addrs[i];
	err = ca_issue_serving(&ctl->ca, dns, num_dns, ips, num_ips, SERVING_TTL_S,
			       clock_wall_s(), &cert, &key,
			       why, sizeof(why));
	if (err < 0) {
		log_emit(LOG_ERR, NULL, "ca: serving certificate: %s", why);
		return err;
	}
	if ((chain = sk_X509_new_null()))
		ca_sent_chain(&ctl->ca, chain);
	id = tls_identity_new(cert, key, chain);
	sk_X509_free(chain);
	X509_free(cert);
	EVP_PKEY_free(key);
	if (!id)
		return -ENOMEM;
	memset(&cfg, 0, sizeof(cfg));
	cfg.mode = TLS_ISTIO_MUTUAL;
	cfg.certs[0] = id;
	cfg.num_certs = 1;
	cfg.bundle = ctl->bundle;
	cfg.client_cert_optional = true;
	cfg.alpn[cfg.num_alpn++] = alpn[0];
	err = tls_server_new(&srv, &cfg, why, sizeof(why));
	tls_identity_unref(id);
	if (err < 0) {
		log_emit(LOG_ERR, NULL, "ca: TLS context: %s", why);
		return err;
	}
	// connections hold their own reference: swapping is safe mid-handshake
	tls_server_unref(ctl->ca_tls);
	ctl->ca_tls = srv;
	return 0;
}

static void *review_start(void *arg, const char *token, size_t len,
			  void (*done)(void *call, int err, const char *ns, const char *sa,
				       const char *why), void *call)
{
	struct control *ctl = arg;

	// the audience Istio's agents ask their projected token for
	return kube_token_review(ctl->kube, token, len, "istio-ca", done, call);
}

static void review_cancel(void *arg, void *review)
{
	kube_review_cancel(review);
}

int ca_server_start(struct control *ctl)
{
	const struct bootstrap *b = ctl->boot;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, err;

	if ((err = ca_server_refresh_cert(ctl)) < 0)
		return err;
	ca_service_init(&ctl->ca_svc, &ctl->ca, clock_wall_s);
	if (ctl->kube) {
		// Kubernetes service-account tokens, as istiod takes them
		ctl->ca_svc.review_start = review_start;
		ctl->ca_svc.review_cancel = review_cancel;
		ctl->ca_svc.review_arg = ctl;
		ctl->ca_svc.cluster_id = b->kube_cluster_id;
	}
	if (bootstrap_parse_addr(b->ca_address, b->ca_port, &ss, &len) < 0)
		return -EINVAL;
	if ((fd = sock_listen_fd((struct sockaddr *)&ss, len, 512)) < 0) {
		log_emit(LOG_ERR, NULL, "ca: cannot listen on %s:%u (%s)", b->ca_address,
			 b->ca_port, strerror(-fd));
		return fd;
	}
	ctl->ca_listener.on_accept = on_accept;
	ctl->ca_listener.owner = ctl;
	sock_listener_start(&ctl->ca_listener, &ctl->ring, fd);
	log_emit(LOG_INFO, NULL, "ca: signing service on %s:%u (gRPC, TLS, ALPN h2)",
		 b->ca_address, b->ca_port);
	return 0;
}

void ca_server_stop(struct control *ctl)
{
	if (ctl->ca_listener.ring)
		sock_listener_stop(&ctl->ca_listener);
}
