/*
 * SPDX-License-Identifier: ISC
 * registry_data.h - the tables generated from data/smtp-codes.tsv.
 *
 * build-aux/gen-registry.awk writes registry_data.c, which defines these.
 * Only registry.c, policy.c and phase.c read them directly; the rest of
 * the engine goes through the public accessors.
 */
#ifndef SR_REGISTRY_DATA_H
#define SR_REGISTRY_DATA_H

#include <stddef.h>
#include <stdint.h>

#include <smtpreply/phase.h>
#include <smtpreply/policy.h>
#include <smtpreply/registry.h>

/* IANA enhanced status codes, sorted by subject then detail. */
extern const struct sr_enhanced_info sr_data_enhanced[];
extern const size_t sr_data_enhanced_count;

/* Basic reply codes, sorted by code. */
extern const struct sr_basic_info sr_data_basic[];
extern const size_t sr_data_basic_count;

/* Index into sr_data_basic by code (0..999), -1 where there is none. */
extern const int16_t sr_data_basic_index[1000];

/* Shipped normalization tables. */
extern const struct sr_policy sr_data_policy;

/* Codes RFC 5321 4.3.2 lists for each phase (besides 421, 500-504). */
extern const uint16_t *const sr_data_phase_codes[SR_PHASE__COUNT];
extern const size_t sr_data_phase_ncodes[SR_PHASE__COUNT];

#endif /* SR_REGISTRY_DATA_H */
