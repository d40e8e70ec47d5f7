/*
 * SPDX-License-Identifier: ISC
 * registry.c - look-ups in the code registry: enhanced status codes
 * (syntax and the IANA registry) and the catalog of basic reply codes.
 *
 * The tables themselves are generated from data/smtp-codes.tsv into
 * registry_data.c; everything here only reads const data.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <smtpreply/registry.h>
#include <smtpreply/smtpreply.h>

#include "registry_data.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

const char *sr_version(void)
{
	return PACKAGE_VERSION;
}

/* ---- enhanced status codes: text form ---------------------------------- */

/* Append the decimal form of VALUE (0..999) at P; returns the new end. */
static char *put_number(char *p, unsigned value)
{
	if (value >= 100)
		*p++ = (char)('0' + value / 100);
	if (value >= 10)
		*p++ = (char)('0' + value / 10 % 10);
	*p++ = (char)('0' + value % 10);
	return p;
}

static bool enh_is_valid(struct sr_enh e)
{
	return (e.cls == 2 || e.cls == 4 || e.cls == 5)
	    && e.subject <= 999 && e.detail <= 999;
}

char *sr_enh_format(struct sr_enh e, char buf[SR_ENH_STRLEN])
{
	char *p = buf;

	/* Anything sr_enh_parse() could not have produced is "no code". */
	if (enh_is_valid(e)) {
		*p++ = (char)('0' + e.cls);
		*p++ = '.';
		p = put_number(p, e.subject);
		*p++ = '.';
		p = put_number(p, e.detail);
	}
	*p = '\0';
	return buf;
}

/*
 * Parse one field of 1-3 digits without leading zeros from S[*POS..LEN)
 * up to the next '.' or the end; advances *POS past it. Returns the value,
 * or -1 when the field is malformed.
 */
static int parse_field(const char *s, size_t len, size_t *pos)
{
	size_t start = *pos;
	size_t i = start;
	int value = 0;

	while (i < len && s[i] >= '0' && s[i] <= '9') {
		if (i - start == 3)
			return -1;
		value = value * 10 + (s[i] - '0');
		i++;
	}
	if (i == start)
		return -1;
	if (s[start] == '0' && i - start > 1)
		return -1;
	*pos = i;
	return value;
}

int sr_enh_parse(const char *s, size_t len, struct sr_enh *out)
{
	size_t pos = 2;
	int subject, detail;

	if (s == NULL || len < 5)
		return -1;
	if (s[0] != '2' && s[0] != '4' && s[0] != '5')
		return -1;
	if (s[1] != '.')
		return -1;
	if ((subject = parse_field(s, len, &pos)) < 0)
		return -1;
	if (pos >= len || s[pos] != '.')
		return -1;
	pos++;
	if ((detail = parse_field(s, len, &pos)) < 0)
		return -1;
	if (pos != len)
		return -1;
	if (out != NULL) {
		out->cls = (uint8_t)(s[0] - '0');
		out->subject = (uint16_t)subject;
		out->detail = (uint16_t)detail;
	}
	return 0;
}

/* ---- the IANA registry ------------------------------------------------- */

const struct sr_enhanced_info *sr_registry_enhanced(unsigned subject,
						    unsigned detail)
{
	size_t low = 0;
	size_t high = sr_data_enhanced_count;
	unsigned long key = (unsigned long)subject * 1000 + detail;

	if (subject > 999 || detail > 999)
		return NULL;
	while (low < high) {
		size_t middle = low + (high - low) / 2;
		const struct sr_enhanced_info *row = &sr_data_enhanced[middle];
		unsigned long row_key = (unsigned long)row->subject * 1000
		    + row->detail;

		if (row_key == key)
			return row;
		if (row_key < key)
			low = middle + 1;
		else
			high = middle;
	}
	return NULL;
}

size_t sr_registry_enhanced_count(void)
{
	return sr_data_enhanced_count;
}

const struct sr_enhanced_info *sr_registry_enhanced_at(size_t i)
{
	return i < sr_data_enhanced_count ? &sr_data_enhanced[i] : NULL;
}

/*
 * Does one entry of an associated-codes list, P[0..LEN), name CODE?
 * Entries are three digits, or a class wildcard "4XX" / "5XX".
 */
static bool assoc_entry_matches(const char *p, size_t len, unsigned code)
{
	if (len != 3 || p[0] < '0' || p[0] > '9')
		return false;
	if (p[1] == 'X' && p[2] == 'X')
		return (unsigned)(p[0] - '0') == code / 100;
	if (p[1] < '0' || p[1] > '9' || p[2] < '0' || p[2] > '9')
		return false;
	return (unsigned)((p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0'))
	    == code;
}

bool sr_registry_associated(const struct sr_enhanced_info *info, unsigned code)
{
	const char *p;

	if (info == NULL)
		return false;
	p = info->assoc;
	/* "Not given" and "Any" never contradict a code. */
	if (p[0] == '\0' || (p[0] == '*' && p[1] == '\0'))
		return true;
	if (code > 999)
		return false;
	while (*p != '\0') {
		size_t len = 0;

		while (p[len] != '\0' && p[len] != ',')
			len++;
		if (assoc_entry_matches(p, len, code))
			return true;
		p += len;
		if (*p == ',')
			p++;
	}
	return false;
}

/* ---- the catalog of basic reply codes ---------------------------------- */

const struct sr_basic_info *sr_registry_basic(unsigned code)
{
	if (code > 999 || sr_data_basic_index[code] < 0)
		return NULL;
	return &sr_data_basic[sr_data_basic_index[code]];
}

size_t sr_registry_basic_count(void)
{
	return sr_data_basic_count;
}

const struct sr_basic_info *sr_registry_basic_at(size_t i)
{
	return i < sr_data_basic_count ? &sr_data_basic[i] : NULL;
}

bool sr_code_is_standard(unsigned code)
{
	const struct sr_basic_info *info;

	if (!sr_code_in_abnf(code))
		return false;
	info = sr_registry_basic(code);
	return info != NULL && info->origin != SR_ORIGIN_NONSTANDARD;
}
