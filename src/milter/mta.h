/*
 * SPDX-License-Identifier: ISC
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

	/*
	 * The modifications of proxy children (end of message only), as
	 * they made them; NULL members: the MTA side cannot (a recorder
	 * that does not care). 0 or -1 each.
	 */
	int (*addheader)(void *ctx, const char *name, const char *value);
	int (*insheader)(void *ctx, int index, const char *name,
			 const char *value);
	/* VALUE NULL deletes the INDEX-th (1-based) header NAME. */
	int (*chgheader)(void *ctx, const char *name, int index,
			 const char *value);
	/* ARGS NULL: no ESMTP arguments (smfi_addrcpt). */
	int (*addrcpt)(void *ctx, const char *rcpt, const char *args);
	int (*delrcpt)(void *ctx, const char *rcpt);
	int (*chgfrom)(void *ctx, const char *from, const char *args);
	/* One chunk of the new body; called in order for each chunk. */
	int (*replacebody)(void *ctx, const unsigned char *body, size_t len);
};

struct mta {
	const struct mta_ops *ops;
	void *ctx;			/* SMFICTX *, or the test's recorder */
};

#endif /* SMTPREPLY_MILTER_MTA_H */
