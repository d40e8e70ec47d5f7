/*
 * SPDX-License-Identifier: ISC
 * mta_libmilter.c - the mta_ops of the real daemon: thin smfi_* calls.
 */
#include <limits.h>

#include <libmilter/mfapi.h>

#include "mta_libmilter.h"

static const char *lm_getsymval(void *ctx, const char *name)
{
	return smfi_getsymval((SMFICTX *)ctx, (char *)name);
}

static int lm_setreply(void *ctx, const char *code, const char *xcode,
		       const char *text)
{
	return smfi_setreply((SMFICTX *)ctx, (char *)code, (char *)xcode,
	    (char *)text) == MI_SUCCESS ? 0 : -1;
}

/*
 * smfi_setmlreply is variadic and stops at the first NULL: pass all 32
 * slots, NULL after the last line.
 */
static int lm_setmlreply(void *ctx, const char *code, const char *xcode,
			 const char *const *lines, size_t nlines)
{
	char *l[MTA_LIBMILTER_MAX_LINES + 1] = { NULL };
	size_t i;

	if (nlines == 0 || nlines > MTA_LIBMILTER_MAX_LINES)
		return -1;
	for (i = 0; i < nlines; i++)
		l[i] = (char *)lines[i];
	return smfi_setmlreply((SMFICTX *)ctx, code, xcode,
	    l[0], l[1], l[2], l[3], l[4], l[5], l[6], l[7], l[8], l[9],
	    l[10], l[11], l[12], l[13], l[14], l[15], l[16], l[17], l[18],
	    l[19], l[20], l[21], l[22], l[23], l[24], l[25], l[26], l[27],
	    l[28], l[29], l[30], l[31], (char *)NULL) == MI_SUCCESS ? 0 : -1;
}

static int lm_quarantine(void *ctx, const char *reason)
{
	return smfi_quarantine((SMFICTX *)ctx, (char *)reason) == MI_SUCCESS ?
	    0 : -1;
}

#define OK(call) ((call) == MI_SUCCESS ? 0 : -1)

static int lm_addheader(void *ctx, const char *name, const char *value)
{
	return OK(smfi_addheader((SMFICTX *)ctx, (char *)name, (char *)value));
}

static int lm_insheader(void *ctx, int index, const char *name,
			const char *value)
{
	return OK(smfi_insheader((SMFICTX *)ctx, index, (char *)name,
	    (char *)value));
}

static int lm_chgheader(void *ctx, const char *name, int index,
			const char *value)
{
	return OK(smfi_chgheader((SMFICTX *)ctx, (char *)name, index,
	    (char *)value));
}

static int lm_addrcpt(void *ctx, const char *rcpt, const char *args)
{
	if (args == NULL)
		return OK(smfi_addrcpt((SMFICTX *)ctx, (char *)rcpt));
	return OK(smfi_addrcpt_par((SMFICTX *)ctx, (char *)rcpt, (char *)args));
}

static int lm_delrcpt(void *ctx, const char *rcpt)
{
	return OK(smfi_delrcpt((SMFICTX *)ctx, (char *)rcpt));
}

static int lm_chgfrom(void *ctx, const char *from, const char *args)
{
	return OK(smfi_chgfrom((SMFICTX *)ctx, (char *)from, (char *)args));
}

static int lm_replacebody(void *ctx, const unsigned char *body, size_t len)
{
	if (len > (size_t)INT_MAX)
		return -1;
	return OK(smfi_replacebody((SMFICTX *)ctx, (unsigned char *)body,
	    (int)len));
}

int mta_libmilter_setsymlist(void *ctx, int stage, const char *list)
{
	return OK(smfi_setsymlist((SMFICTX *)ctx, stage, (char *)list));
}

const struct mta_ops mta_libmilter_ops = {
	lm_getsymval, lm_setreply, lm_setmlreply, lm_quarantine,
	lm_addheader, lm_insheader, lm_chgheader, lm_addrcpt, lm_delrcpt,
	lm_chgfrom, lm_replacebody
};
