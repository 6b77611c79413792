// SPDX-License-Identifier: Apache-2.0
// accesslog.h: Envoy's default TEXT access-log line, as Istio configures it:
// [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%"
// %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS%
// %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%"
// %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%
// "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%"
// "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW%
// %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS%
// %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n
#ifndef MG_TELEMETRY_ACCESSLOG_H
#define MG_TELEMETRY_ACCESSLOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct buf;

// accesslog_entry holds one request's fields. Strings are (pointer, length)
// and need not be NUL-terminated; a NULL pointer prints "-". Addresses with
// ss_family == AF_UNSPEC print "-". Absent numbers are < 0.
struct accesslog_entry {
	uint64_t start_time_ns;		// wall clock, printed as 2024-01-02T03:04:05.678Z
	const char *method; size_t method_len;
	const char *path; size_t path_len;	// x-envoy-original-path if set, else :path
	const char *protocol;		// "HTTP/1.1", "HTTP/1.0", "HTTP/2"; NULL for TCP ("-")
	int response_code;		// 0 prints 0 (as Envoy does for TCP)
	const char *response_flags;	// "-" when none, else "UH", "UF,URX", ...
	const char *response_code_details;	// "via_upstream", "route_not_found", ...; NULL "-"
	const char *termination_details;
	const char *upstream_failure;	// UPSTREAM_TRANSPORT_FAILURE_REASON
	uint64_t bytes_received, bytes_sent;
	int64_t duration_ms;
	int64_t upstream_service_time_ms;	// < 0 prints "-"
	const char *xff; size_t xff_len;
	const char *user_agent; size_t user_agent_len;
	const char *request_id; size_t request_id_len;
	const char *authority; size_t authority_len;
	struct sockaddr_storage upstream_host;
	const char *upstream_cluster;	// "outbound|9080||reviews.default.svc.cluster.local"
	struct sockaddr_storage upstream_local, downstream_local, downstream_remote;
	const char *requested_server_name;	// SNI; NULL "-"
	const char *route_name;		// NULL "-"
};

// accesslog_format appends one line (with '\n') to out. Values that contain
// '"', '\\' or control characters are escaped so one line stays one line.
// It returns 0 or -ENOMEM.
int accesslog_format(struct buf *out, const struct accesslog_entry *e);

// accesslog_format_addr writes "ip:port" ("[v6]:port") or "-" into out
// (at least 64 bytes) and returns its length.
size_t accesslog_format_addr(char *out, size_t out_len, const struct sockaddr_storage *ss);

#endif
