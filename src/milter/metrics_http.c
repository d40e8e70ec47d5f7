/*
 * SPDX-License-Identifier: ISC
 * metrics_http.c - serve the Prometheus exposition at /metrics with
 * libmicrohttpd.
 *
 * One polling thread of libmicrohttpd's own answers scrapes; the mail path
 * never waits for it (collectors only load atomics). GET and HEAD of
 * /metrics only (404 elsewhere, 405 for other methods), no request body
 * read, at most 16 connections (4 per client address), 10 s idle timeout:
 * the endpoint stays cheap even when something other than Prometheus
 * finds it. The address is loopback unless configured otherwise.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "log.h"
#include "metrics_http.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct metrics_http {
	struct MHD_Daemon *daemon;
	struct metrics_registry *reg;
};

static enum MHD_Result reply_text(struct MHD_Connection *conn,
				  unsigned status, const char *text,
				  const char *allow)
{
	struct MHD_Response *resp;
	enum MHD_Result rc;

	resp = MHD_create_response_from_buffer(strlen(text), (void *)text,
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		return MHD_NO;
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    "text/plain; charset=utf-8");
	if (allow != NULL)
		(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	rc = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct metrics_http *srv = cls;
	struct MHD_Response *resp;
	enum MHD_Result rc;
	size_t len;
	char *body;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)req_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "only GET and HEAD\n", "GET, HEAD");
	if (strcmp(url, "/metrics") != 0)
		return reply_text(conn, MHD_HTTP_NOT_FOUND,
		    "smtpreply-milter: metrics are at /metrics\n", NULL);
	if (metrics_render(srv->reg, &body, &len) != 0) {
		log_msg(LOG_ERR, "metrics: the exposition could not be written");
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "the exposition could not be written\n", NULL);
	}
	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	(void)MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	    CONTENT_TYPE);
	rc = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return rc;
}

static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	log_msg(LOG_WARNING, "metrics: %s", buf);
}

struct metrics_http *metrics_http_start(const char *spec,
					struct metrics_registry *reg)
{
	struct sockaddr_storage ss;
	struct metrics_http *srv;
	sigset_t all, old;
	unsigned sslen, flags;
	char err[256];

	if (metrics_listen_parse(spec, &ss, &sslen, err, sizeof(err)) != 0) {
		log_msg(LOG_ERR, "metrics '%s': %s", spec, err);
		return NULL;
	}
	if (!metrics_listen_is_loopback(&ss))
		log_msg(LOG_WARNING, "metrics '%s': not a loopback address: "
		    "anyone who reaches it can read the counters", spec);
	if ((srv = calloc(1, sizeof(*srv))) == NULL) {
		log_msg(LOG_ERR, "metrics: out of memory");
		return NULL;
	}
	srv->reg = reg;
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
	    MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* The thread libmicrohttpd creates inherits this mask. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	srv->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)4,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
	    MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (srv->daemon == NULL) {
		log_msg(LOG_ERR, "metrics: cannot listen on %s (in use? "
		    "permissions?)", spec);
		free(srv);
		return NULL;
	}
	log_msg(LOG_INFO, "metrics: serving /metrics on %s", spec);
	return srv;
}

void metrics_http_stop(struct metrics_http *srv)
{
	if (srv == NULL)
		return;
	MHD_stop_daemon(srv->daemon);
	free(srv);
}
