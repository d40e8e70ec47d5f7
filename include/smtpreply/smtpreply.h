/*
 * SPDX-License-Identifier: ISC
 * smtpreply/smtpreply.h - everything libsmtpreply offers, in one include.
 *
 * libsmtpreply parses, checks and normalizes SMTP replies (RFC 5321 basic
 * codes, RFC 3463 enhanced status codes, the IANA registry of RFC 5248)
 * and depends on libc alone.
 */
#ifndef SMTPREPLY_SMTPREPLY_H
#define SMTPREPLY_SMTPREPLY_H

#include <smtpreply/diag.h>
#include <smtpreply/phase.h>
#include <smtpreply/policy.h>
#include <smtpreply/registry.h>
#include <smtpreply/reply.h>
#include <smtpreply/text.h>

/* Version of the library, "MAJOR.MINOR.PATCH". */
const char *sr_version(void);

#endif /* SMTPREPLY_SMTPREPLY_H */
