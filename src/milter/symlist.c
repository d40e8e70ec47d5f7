/*
 * SPDX-License-Identifier: ISC
 * symlist.c - the macro lists smtpreply-milter asks the MTA for on behalf
 * of the proxy children. See symlist.h.
 */
#include <string.h>

#include "symlist.h"

static const char *const stage_names[SYMLIST_STAGES] = {
	"connect", "helo", "envfrom", "envrcpt", "data", "eom", "eoh"
};

/*
 * Postfix's defaults: milter_connect_macros, milter_helo_macros,
 * milter_mail_macros, milter_rcpt_macros, milter_data_macros,
 * milter_end_of_data_macros, milter_end_of_header_macros (DEF_MILT_*_MACROS
 * in src/global/mail_params.h of Postfix 3.11; postconf(5)). Postfix maps
 * SMFIM_EOM to the end-of-data list and SMFIM_EOH to the end-of-header
 * list (milter8.c, MILTER8_MACRO_PTR).
 */
static const char *const postfix_defaults[SYMLIST_STAGES] = {
	"j {daemon_name} {daemon_addr} v _",
	"{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}",
	"i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} "
	    "{mail_mailer}",
	"i {rcpt_addr} {rcpt_host} {rcpt_mailer}",
	"i",
	"i",
	"i"
};

/*
 * sendmail's defaults: confMILTER_MACROS_CONNECT, _HELO, _ENVFROM and
 * _ENVRCPT of cf/m4/proto.m4 (Milter.macros.*), and {msg_id} at the end
 * of the message; none at DATA and end of headers. The same table is in
 * libmilter's documentation of smfi_getsymval ("By default, the
 * following macros are valid").
 */
static const char *const sendmail_defaults[SYMLIST_STAGES] = {
	"j _ {daemon_name} {if_name} {if_addr}",
	"{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}",
	"i {auth_type} {auth_authen} {auth_ssf} {auth_author} {mail_mailer} "
	    "{mail_host} {mail_addr}",
	"{rcpt_mailer} {rcpt_host} {rcpt_addr}",
	NULL,
	"{msg_id}",
	NULL
};

/*
 * What session.c reads itself, whatever the rules: the queue id for
 * every line about a message (refresh_qid, from MAIL on) and, at RCPT,
 * the recipient the MTA rejected (audit_rejected, session_rcpt).
 */
static const char *const session_needs[SYMLIST_STAGES] = {
	NULL,
	NULL,
	"i",
	"i {rcpt_addr} {rcpt_host} {rcpt_mailer}",
	"i",
	"i",
	"i"
};

/*
 * The order in which the stages happen: end of headers (SMFIM_EOH, 6)
 * comes before end of message (SMFIM_EOM, 5).
 */
static const int stage_rank[SYMLIST_STAGES] = { 0, 1, 2, 3, 4, 6, 5 };

/* The stage whose macros a rule of PHASE sees last before it runs; a
 * header rule runs before the end of headers: the DATA stage's. */
static int phase_stage(enum rule_phase p)
{
	switch (p) {
	case RULE_PHASE_CONNECT: return 0;
	case RULE_PHASE_HELO: return 1;
	case RULE_PHASE_MAIL: return 2;
	case RULE_PHASE_RCPT: return 3;
	case RULE_PHASE_DATA: return 4;
	case RULE_PHASE_HEADER: return 4;
	case RULE_PHASE_EOM: return 5;
	default: return -1;
	}
}

static bool valid_stage(int stage)
{
	return stage >= 0 && stage < SYMLIST_STAGES;
}

const char *symlist_stage_name(int stage)
{
	return valid_stage(stage) ? stage_names[stage] : "?";
}

const char *symlist_postfix_default(int stage)
{
	return valid_stage(stage) ? postfix_defaults[stage] : NULL;
}

const char *symlist_sendmail_default(int stage)
{
	return valid_stage(stage) ? sendmail_defaults[stage] : NULL;
}

/* A byte a macro name may hold: printable ASCII but ',' and braces. */
static bool name_byte(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != ',' && c != '{' && c != '}';
}

int symlist_normalize(const char *name, size_t len, char *out, size_t size)
{
	size_t i, need;

	if (len >= 2 && name[0] == '{' && name[len - 1] == '}') {
		name++;
		len -= 2;
	}
	if (len == 0 || len + 2 > SYMLIST_NAME_MAX)
		return -1;
	for (i = 0; i < len; i++)
		if (!name_byte((unsigned char)name[i]))
			return -1;
	need = len == 1 ? 1 : len + 2;
	if (need + 1 > size)
		return -1;
	if (len == 1) {
		out[0] = name[0];
	} else {
		out[0] = '{';
		memcpy(out + 1, name, len);
		out[len + 1] = '}';
	}
	out[need] = '\0';
	return (int)need;
}

/* Is NAME[0..N) one of the space-separated names of LIST[0..LEN)? */
static bool has_name(const char *list, size_t len, const char *name, size_t n)
{
	size_t i = 0;

	while (i < len) {
		size_t j = i;

		while (j < len && list[j] != ' ')
			j++;
		if (j - i == n && memcmp(list + i, name, n) == 0)
			return true;
		i = j + 1;
	}
	return false;
}

static void add_name(struct symlist_stage *st, const char *name, size_t len)
{
	char norm[SYMLIST_NAME_MAX + 1];
	int n = symlist_normalize(name, len, norm, sizeof(norm));
	size_t k, sep;

	if (n < 0) {
		if (st->invalid++ == 0) {
			k = len < SYMLIST_NAME_MAX ? len : SYMLIST_NAME_MAX;
			memcpy(st->first_invalid, name, k);
			st->first_invalid[k] = '\0';
		}
		return;
	}
	if (st->overflow || has_name(st->list, st->len, norm, (size_t)n))
		return;
	sep = st->len > 0 ? 1 : 0;
	if (st->nnames + 1 > SYMLIST_NAMES_MAX ||
	    st->len + sep + (size_t)n > SYMLIST_BYTES_MAX) {
		st->overflow = true;
		return;
	}
	if (sep)
		st->list[st->len++] = ' ';
	memcpy(st->list + st->len, norm, (size_t)n);
	st->len += (size_t)n;
	st->list[st->len] = '\0';
	st->nnames++;
}

/* Add every name of LIST (separated as the MTAs separate them). */
static void add_names(struct symlist_stage *st, const char *list)
{
	static const char sep[] = " \t\r\n,";

	while (list != NULL && *list != '\0') {
		size_t n;

		list += strspn(list, sep);
		n = strcspn(list, sep);
		if (n > 0)
			add_name(st, list, n);
		list += n;
	}
}

void symlist_init(struct symlist *sl)
{
	int i;

	for (i = 0; i < SYMLIST_STAGES; i++) {
		struct symlist_stage *st = &sl->st[i];

		st->asked = false;
		st->overflow = false;
		st->nnames = 0;
		st->len = 0;
		st->list[0] = '\0';
		st->invalid = 0;
		st->first_invalid[0] = '\0';
		add_names(st, postfix_defaults[i]);
		add_names(st, sendmail_defaults[i]);
		add_names(st, session_needs[i]);
	}
}

void symlist_add_child(struct symlist *sl, int stage, const char *list)
{
	if (!valid_stage(stage))
		return;
	sl->st[stage].asked = true;
	add_names(&sl->st[stage], list);
}

void symlist_add_rules(struct symlist *sl, const struct rule_set *rs)
{
	/* More distinct names than a stage may hold overflow anyway. */
	const char *names[SYMLIST_NAMES_MAX + 1];
	int p, s;

	for (p = 0; p < RULE_PHASE__COUNT; p++) {
		int ps = phase_stage((enum rule_phase)p);
		size_t n = rules_macros_needed(rs, (enum rule_phase)p, names,
		    SYMLIST_NAMES_MAX + 1), i;

		if (ps < 0 || n == 0)
			continue;
		for (s = 0; s < SYMLIST_STAGES; s++) {
			struct symlist_stage *st = &sl->st[s];

			if (stage_rank[s] > stage_rank[ps])
				continue;
			if (n > SYMLIST_NAMES_MAX + 1)
				st->overflow = true;
			for (i = 0; i < n && i <= SYMLIST_NAMES_MAX; i++)
				add_name(st, names[i], strlen(names[i]));
		}
	}
}

enum symlist_status symlist_status(const struct symlist *sl, int stage)
{
	if (!valid_stage(stage) || !sl->st[stage].asked)
		return SYMLIST_NONE;
	return sl->st[stage].overflow ? SYMLIST_OVERFLOW : SYMLIST_REQUEST;
}

const char *symlist_list(const struct symlist *sl, int stage)
{
	return symlist_status(sl, stage) == SYMLIST_REQUEST ?
	    sl->st[stage].list : NULL;
}
