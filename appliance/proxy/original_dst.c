// SPDX-License-Identifier: Apache-2.0
// original_dst.c: where a redirected connection was going. An nftables or
// iptables REDIRECT (Istio's inbound capture to 15006) rewrites the
// destination to the listener; conntrack keeps the original, which
// SO_ORIGINAL_DST (IPv4) and IP6T_SO_ORIGINAL_DST (IPv6) return.
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter_ipv4.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "proxy.h"

#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80	// linux/netfilter_ipv6/ip6_tables.h
#endif

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr));
	}
	return false;
}

int original_dst(int fd, const struct sockaddr_storage *local, struct snap_endpoint *ep)
{
	struct sockaddr_storage od;
	socklen_t len = sizeof(od);
	char ip[INET6_ADDRSTRLEN];
	uint16_t port;

	memset(ep, 0, sizeof(*ep));
	memset(&od, 0, sizeof(od));
	if (local->ss_family == AF_INET6) {
		const struct sockaddr_in6 *l6 = (const void *)local;

		// an IPv4 client on a dual-stack listener: conntrack has it
		// as IPv4
		if (IN6_IS_ADDR_V4MAPPED(&l6->sin6_addr)) {
			struct sockaddr_in *o4 = (struct sockaddr_in *)&od;
			struct sockaddr_in6 *o6 = (struct sockaddr_in6 *)&ep->addr;

			len = sizeof(*o4);
			if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, o4, &len) < 0)
				return -errno;
			// keep the family of the listener's socket
			o6->sin6_family = AF_INET6;
			o6->sin6_port = o4->sin_port;
			o6->sin6_addr.s6_addr[10] = o6->sin6_addr.s6_addr[11] = 0xff;
			memcpy(&o6->sin6_addr.s6_addr[12], &o4->sin_addr, 4);
			ep->addr_len = sizeof(*o6);
			goto check;
		}
		if (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &od, &len) < 0)
			return -errno;
	} else if (local->ss_family == AF_INET) {
		if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &od, &len) < 0)
			return -errno;
	} else {
		return -EAFNOSUPPORT;
	}
	if (od.ss_family != local->ss_family)
		return -EAFNOSUPPORT;
	memcpy(&ep->addr, &od, sizeof(od));
	ep->addr_len = od.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
						: sizeof(struct sockaddr_in);
check:
	// Not redirected (conntrack's original is the listener itself): going
	// there would connect back to us, as Istio's 15006 blackhole chain
	// guards against.
	if (same_addr(&ep->addr, local))
		return -ELOOP;
	if (ep->addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)&ep->addr;

		if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr))
			inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], ip, sizeof(ip));
		else
			inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		port = ntohs(a->sin6_port);
		snprintf(ep->addr_str, sizeof(ep->addr_str),
			 IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) ? "%s:%u" : "[%s]:%u", ip, port);
	} else {
		const struct sockaddr_in *a = (const void *)&ep->addr;

		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		port = ntohs(a->sin_port);
		snprintf(ep->addr_str, sizeof(ep->addr_str), "%s:%u", ip, port);
	}
	if (!port)
		return -EINVAL;
	ep->weight = 1;
	return 0;
}

int listener_peer_auth(const struct snap_listener *l, const struct snap_endpoint *od)
{
	uint16_t port = l->port;

	if (od && od->addr.ss_family == AF_INET)
		port = ntohs(((const struct sockaddr_in *)&od->addr)->sin_port);
	else if (od && od->addr.ss_family == AF_INET6)
		port = ntohs(((const struct sockaddr_in6 *)&od->addr)->sin6_port);
	return snap_peer_auth_for(l, port);
}

void original_dst_cluster(const struct snap_cluster *tmpl, const struct snap_endpoint *ep,
			  struct snap_cluster *out)
{
	*out = *tmpl;
	out->eps = (struct snap_endpoint *)ep;
	out->num_eps = 1;
}
