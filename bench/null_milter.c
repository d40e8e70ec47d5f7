/* null_milter.c - a milter that does nothing, the baseline of "make bench-milter".
 * SPDX-License-Identifier: ISC
 *
 * Every callback (connect, helo, envfrom, envrcpt, data, header, eoh, eom,
 * abort, close) returns SMFIS_CONTINUE, so what the benchmark measures with it
 * is the cost of the milter protocol itself: one round trip per SMTP command
 * and per header between the MTA and libmilter.
 *
 *   null_milter -p SOCKET [-n] [-d LEVEL]
 *
 *   -p SOCKET  libmilter socket: inet:PORT@127.0.0.1, inet6:PORT@::1, unix:/path
 *   -n         no DATA callback, and SMFIP_NODATA negotiated: the MTA sends no
 *              DATA command to the milter. Over TCP this shows the known
 *              loopback stall (some 40 ms more per message).
 *   -d LEVEL   smfi_setdbg level (libmilter debug output on stderr)
 *
 * Runs in the foreground until SIGTERM, SIGINT or SIGHUP (libmilter's signal
 * thread stops smfi_main). A unix socket left by a previous run is removed.
 * Exit status 0 after a clean stop, 1 on an error, 2 on bad usage.
 */
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L /* getopt */
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

static int no_data;

static sfsistat nm_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	(void)ctx; (void)host; (void)addr;
	return SMFIS_CONTINUE;
}

static sfsistat nm_helo(SMFICTX *ctx, char *helo)
{
	(void)ctx; (void)helo;
	return SMFIS_CONTINUE;
}

static sfsistat nm_envfrom(SMFICTX *ctx, char **argv)
{
	(void)ctx; (void)argv;
	return SMFIS_CONTINUE;
}

static sfsistat nm_envrcpt(SMFICTX *ctx, char **argv)
{
	(void)ctx; (void)argv;
	return SMFIS_CONTINUE;
}

static sfsistat nm_data(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat nm_header(SMFICTX *ctx, char *name, char *value)
{
	(void)ctx; (void)name; (void)value;
	return SMFIS_CONTINUE;
}

static sfsistat nm_eoh(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat nm_eom(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat nm_abort(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat nm_close(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

/* Ask for no actions and every protocol step we have a callback for: body and
 * unknown commands are never sent (no callbacks), and with -n neither is DATA.
 * Flags the MTA does not offer are not asked for. */
static sfsistat nm_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
			     unsigned long f2, unsigned long f3,
			     unsigned long *pf0, unsigned long *pf1,
			     unsigned long *pf2, unsigned long *pf3)
{
	unsigned long want = SMFIP_NOBODY | SMFIP_NOUNKNOWN;

	(void)ctx; (void)f0; (void)f2; (void)f3;
	if (no_data)
		want |= SMFIP_NODATA;
	*pf0 = 0;
	*pf1 = want & f1;
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

static struct smfiDesc desc = {
	.xxfi_name = "null_milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = 0,
	.xxfi_connect = nm_connect,
	.xxfi_helo = nm_helo,
	.xxfi_envfrom = nm_envfrom,
	.xxfi_envrcpt = nm_envrcpt,
	.xxfi_header = nm_header,
	.xxfi_eoh = nm_eoh,
	.xxfi_body = NULL,
	.xxfi_eom = nm_eom,
	.xxfi_abort = nm_abort,
	.xxfi_close = nm_close,
	.xxfi_unknown = NULL,
	.xxfi_data = nm_data,
	.xxfi_negotiate = nm_negotiate,
};

static void usage(FILE *f)
{
	fprintf(f, "usage: null_milter -p SOCKET [-n] [-d LEVEL]\n"
		"  SOCKET: inet:PORT@127.0.0.1, inet6:PORT@::1 or unix:/path\n"
		"  -n: no DATA callback, SMFIP_NODATA negotiated\n");
}

int main(int argc, char **argv)
{
	char *sock = NULL;
	int opt, dbg = 0;

	while ((opt = getopt(argc, argv, "p:nd:h")) != -1) {
		switch (opt) {
		case 'p':
			sock = optarg;
			break;
		case 'n':
			no_data = 1;
			break;
		case 'd':
			dbg = atoi(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (sock == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (no_data)
		desc.xxfi_data = NULL;
	if (strncmp(sock, "unix:", 5) == 0 || strncmp(sock, "local:", 6) == 0)
		(void)unlink(strchr(sock, ':') + 1);
	if (dbg > 0)
		(void)smfi_setdbg(dbg);
	if (smfi_setconn(sock) == MI_FAILURE) {
		fprintf(stderr, "null_milter: bad socket %s\n", sock);
		return 1;
	}
	if (smfi_register(desc) == MI_FAILURE) {
		fprintf(stderr, "null_milter: smfi_register failed\n");
		return 1;
	}
	/* Open the socket now, so that a failure shows here and not later. */
	if (smfi_opensocket(1) == MI_FAILURE) {
		fprintf(stderr, "null_milter: cannot open %s\n", sock);
		return 1;
	}
	fprintf(stderr, "null_milter: listening on %s%s\n", sock,
		no_data ? " (no DATA callback, SMFIP_NODATA)" : "");
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
