/*
 * SPDX-License-Identifier: ISC
 * mta_libmilter.h - mta_ops backed by libmilter (smfi_getsymval,
 * smfi_setreply, smfi_setmlreply, smfi_quarantine). The only module
 * besides milter.c that includes libmilter's headers.
 */
#ifndef SMTPREPLY_MILTER_MTA_LIBMILTER_H
#define SMTPREPLY_MILTER_MTA_LIBMILTER_H

#include "mta.h"

/* libmilter's limit for smfi_setmlreply. */
#define MTA_LIBMILTER_MAX_LINES 32

extern const struct mta_ops mta_libmilter_ops;

/*
 * smfi_setsymlist: ask the MTA for macro LIST (space-separated names) at
 * STAGE (SMFIM_*), from the negotiate callback only. 0 or -1 (libmilter
 * refused: a list already set for the stage, no memory).
 */
int mta_libmilter_setsymlist(void *ctx, int stage, const char *list);

#endif /* SMTPREPLY_MILTER_MTA_LIBMILTER_H */
