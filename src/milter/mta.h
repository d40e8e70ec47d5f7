/*
 * mta.h - what the session logic may ask of the MTA, and nothing more.
 *
 * The policy code (session.c) never calls libmilter: it goes through this
 * small table of functions. mta_libmilter.c fills it with smfi_* calls
 * for the real daemon; the unit tests fill it with a recorder, so that
 * every verdict, reply and quarantine can be checked without an MTA.
 *
 * Strings handed to setreply/setmlreply are final: normalized by the
 * engine and with every '%' already doubled for libmilter.
 */
#ifndef SMTPREPLY_MILTER_MTA_H
#define SMTPREPLY_MILTER_MTA_H

#include <stddef.h>

struct mta_ops {
	/* The value of macro NAME ("i", "{auth_authen}"), or NULL. */
	const char *(*getsymval)(void *ctx, const char *name);
	/* smfi_setreply: one line. XCODE may be NULL. 0 or -1. */
	int (*setreply)(void *ctx, const char *code, const char *xcode,
			const char *text);
	/* smfi_setmlreply: 2 to 32 lines. XCODE may be NULL. 0 or -1. */
	int (*setmlreply)(void *ctx, const char *code, const char *xcode,
			  const char *const *lines, size_t nlines);
	/* smfi_quarantine (end of message only). 0 or -1. */
	int (*quarantine)(void *ctx, const char *reason);
};

struct mta {
	const struct mta_ops *ops;
	void *ctx;			/* SMFICTX *, or the test's recorder */
};

#endif /* SMTPREPLY_MILTER_MTA_H */
