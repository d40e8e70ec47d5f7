/*
 * SPDX-License-Identifier: ISC
 * probes.c - the fixed, documented list of probes of "smtpreply probe"
 * and the expansion of their command templates.
 *
 * Each probe is one SMTP session: the greeting, the commands that lead to
 * the probed one (setup: they must be accepted), the probed command(s)
 * (target), then QUIT. smtpreply(1) documents the list; keep both in step.
 */
#include "config.h"

#include <stddef.h>
#include <string.h>

#include "probe.h"

#define GREETING(role)	{ NULL, SR_PHASE_CONNECT, role, 0 }
#define EHLO_SETUP	{ "EHLO {helo}", SR_PHASE_HELO, PROBE_SETUP, 0 }
#define MAIL_SETUP	{ "MAIL FROM:<{sender}>", SR_PHASE_MAIL, PROBE_SETUP, 0 }
#define TARGET(cmd, phase) { cmd, phase, PROBE_TARGET, 0 }

static const struct probe_def probes[] = {
	{ "greeting", "the greeting", "220 with the server's name", 0,
	  { GREETING(PROBE_TARGET) }, 1 },
	{ "ehlo", "EHLO with a valid name", "250, one line per extension", 0,
	  { GREETING(PROBE_SETUP), TARGET("EHLO {helo}", SR_PHASE_HELO) }, 2 },
	{ "helo", "HELO with a valid name", "250", 0,
	  { GREETING(PROBE_SETUP), TARGET("HELO {helo}", SR_PHASE_HELO) }, 2 },
	{ "ehlo-invalid", "EHLO with a syntactically invalid name",
	  "501 5.5.2 (a lenient server: 250)", 0,
	  { GREETING(PROBE_SETUP),
	    TARGET("EHLO invalid_name!..", SR_PHASE_HELO) }, 2 },
	{ "ehlo-empty", "EHLO without a name", "501 5.5.2", 0,
	  { GREETING(PROBE_SETUP), TARGET("EHLO", SR_PHASE_HELO) }, 2 },
	{ "helo-empty", "HELO without a name", "501 5.5.2", 0,
	  { GREETING(PROBE_SETUP), TARGET("HELO", SR_PHASE_HELO) }, 2 },
	{ "noop", "NOOP", "250 2.0.0", 0,
	  { GREETING(PROBE_SETUP), EHLO_SETUP,
	    TARGET("NOOP", SR_PHASE_OTHER) }, 3 },
	{ "rset", "RSET", "250 2.0.0", 0,
	  { GREETING(PROBE_SETUP), EHLO_SETUP,
	    TARGET("RSET", SR_PHASE_OTHER) }, 3 },
	{ "vrfy", "VRFY postmaster", "252 2.5.0 (or 250; 502 5.5.1 when disabled)", 0,
	  { GREETING(PROBE_SETUP), EHLO_SETUP,
	    TARGET("VRFY postmaster", SR_PHASE_OTHER) }, 3 },
	{ "unknown-command", "an unknown command", "500 5.5.2 (or 502 5.5.1)", 0,
	  { GREETING(PROBE_SETUP), EHLO_SETUP,
	    TARGET("XSMTPREPLY probe", SR_PHASE_OTHER) }, 3 },
	{ "rcpt-before-mail", "RCPT before MAIL", "503 5.5.1", 0,
	  { GREETING(PROBE_SETUP), EHLO_SETUP,
	    TARGET("RCPT TO:<{rcpt}>", SR_PHASE_RCPT) }, 3 },
	{ "data-before-rcpt", "DATA before any RCPT", "503 5.5.1 (or 554 5.5.1)", 0,
	  { GREETING(PROBE_SETUP), EHLO_SETUP, MAIL_SETUP,
	    TARGET("DATA", SR_PHASE_DATA) }, 4 },
	{ "mail-malformed", "MAIL with a malformed address", "501 5.1.7", 0,
	  { GREETING(PROBE_SETUP), EHLO_SETUP,
	    TARGET("MAIL FROM:<{sender}", SR_PHASE_MAIL) }, 3 },
	{ "mail-unknown-param", "MAIL with an unknown parameter", "555 5.5.4", 0,
	  { GREETING(PROBE_SETUP), EHLO_SETUP,
	    TARGET("MAIL FROM:<{sender}> XSMTPREPLY=probe", SR_PHASE_MAIL) }, 3 },
	{ "null-sender", "MAIL with the null sender", "250 2.1.0", 0,
	  { GREETING(PROBE_SETUP), EHLO_SETUP,
	    TARGET("MAIL FROM:<>", SR_PHASE_MAIL) }, 3 },
	{ "rcpt-known", "RCPT to the known-good recipient (--rcpt): the accept path",
	  "250 2.1.5", 0,
	  { GREETING(PROBE_SETUP), EHLO_SETUP, MAIL_SETUP,
	    TARGET("RCPT TO:<{rcpt}>", SR_PHASE_RCPT) }, 4 },
	{ "rcpt-unknown", "RCPT to an unknown local user", "550 5.1.1", 0,
	  { GREETING(PROBE_SETUP), EHLO_SETUP, MAIL_SETUP,
	    TARGET("RCPT TO:<smtpreply-no-such-user@{domain}>", SR_PHASE_RCPT) }, 4 },
	{ "rcpt-relay", "RCPT to a domain the server must not relay to",
	  "554 5.7.1 or 550 5.7.1 (454 4.7.1 when temporary)", 0,
	  { GREETING(PROBE_SETUP), EHLO_SETUP, MAIL_SETUP,
	    TARGET("RCPT TO:<smtpreply-probe@{relay}>", SR_PHASE_RCPT) }, 4 },
	{ "rcpt-malformed", "RCPT with a malformed address", "501 5.1.3", 0,
	  { GREETING(PROBE_SETUP), EHLO_SETUP, MAIL_SETUP,
	    TARGET("RCPT TO:<smtpreply probe@{domain}>", SR_PHASE_RCPT) }, 4 },
	{ "rcpt-too-many", "more recipients than the server takes (--max-rcpt N: N + 1)",
	  "250 2.1.5 up to the limit, then 452 4.5.3", PROBE_DEF_NEEDS_MAX_RCPT,
	  { GREETING(PROBE_SETUP), EHLO_SETUP, MAIL_SETUP,
	    { "RCPT TO:<{rcpt}>", SR_PHASE_RCPT, PROBE_TARGET, PROBE_STEP_REPEAT } }, 4 },
	{ "long-line", "a command line over 512 octets",
	  "500 5.5.2 (line too long) or 501/553 (path too long)", 0,
	  { GREETING(PROBE_SETUP), EHLO_SETUP,
	    TARGET("MAIL FROM:<{long}@{domain}>", SR_PHASE_MAIL) }, 3 },
	{ "data-empty", "DATA with an empty message (the final dot only with --deliver-to)",
	  "354, then 250 2.0.0 or 554 5.6.0 after the dot", 0,
	  { GREETING(PROBE_SETUP), EHLO_SETUP, MAIL_SETUP,
	    { "RCPT TO:<{data_rcpt}>", SR_PHASE_RCPT, PROBE_SETUP, 0 },
	    TARGET("DATA", SR_PHASE_DATA),
	    { ".", SR_PHASE_EOM, PROBE_TARGET, PROBE_STEP_DATA_END } }, 6 },
	{ "auth-not-offered", "AUTH when the server does not offer it",
	  "503 5.5.1 (or 502 5.5.1)", PROBE_DEF_UNLESS_AUTH | PROBE_DEF_EHLO_FIRST,
	  { GREETING(PROBE_SETUP), EHLO_SETUP,
	    TARGET("AUTH PLAIN", SR_PHASE_OTHER) }, 3 },
	{ "starttls-not-offered", "STARTTLS when the server does not offer it",
	  "502 5.5.1 (or 454 4.7.0)", PROBE_DEF_UNLESS_STARTTLS | PROBE_DEF_EHLO_FIRST,
	  { GREETING(PROBE_SETUP), EHLO_SETUP,
	    { "STARTTLS", SR_PHASE_OTHER, PROBE_TARGET, PROBE_STEP_STARTTLS } }, 3 },
	{ "quit", "QUIT", "221 2.0.0", 0,
	  { GREETING(PROBE_SETUP), EHLO_SETUP,
	    TARGET("QUIT", SR_PHASE_OTHER) }, 3 },
};

#define NPROBES (sizeof(probes) / sizeof(probes[0]))

const struct probe_def *probe_list(size_t *count)
{
	*count = NPROBES;
	return probes;
}

const struct probe_def *probe_find(const char *id)
{
	size_t i;

	for (i = 0; i < NPROBES; i++)
		if (strcmp(probes[i].id, id) == 0)
			return &probes[i];
	return NULL;
}

/* Length of the local part {long} stands for: the line is then > 512. */
#define LONG_LOCAL_PART 600

bool probe_param_ok(const char *value)
{
	size_t i;

	if (value == NULL || value[0] == '\0' || strlen(value) > 255)
		return false;
	for (i = 0; value[i] != '\0'; i++) {
		unsigned char c = (unsigned char)value[i];

		if (c <= ' ' || c >= 0x7f || c == '<' || c == '>')
			return false;
	}
	return true;
}

static int put(char *buf, size_t size, size_t *len, const char *s, size_t n)
{
	if (n >= size - *len)
		return -1;
	memcpy(buf + *len, s, n);
	*len += n;
	return 0;
}

int probe_expand(const char *tpl, const struct probe_params *p, char *buf,
		 size_t size)
{
	static const struct { const char *name; size_t off; } vars[] = {
		{ "helo", offsetof(struct probe_params, helo) },
		{ "sender", offsetof(struct probe_params, sender) },
		{ "domain", offsetof(struct probe_params, domain) },
		{ "rcpt", offsetof(struct probe_params, rcpt) },
		{ "relay", offsetof(struct probe_params, relay_domain) },
	};
	const char *s = tpl, *end, *val;
	size_t len = 0, i, n;

	if (size == 0)
		return -1;
	while (*s != '\0') {
		if (*s != '{' || (end = strchr(s, '}')) == NULL) {
			if (put(buf, size, &len, s, 1) != 0)
				return -1;
			s++;
			continue;
		}
		n = (size_t)(end - s - 1);
		val = NULL;
		for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
			if (strlen(vars[i].name) == n &&
			    memcmp(vars[i].name, s + 1, n) == 0)
				val = *(const char *const *)(const void *)
				    ((const char *)p + vars[i].off);
		if (n == 9 && memcmp(s + 1, "data_rcpt", 9) == 0)
			val = p->deliver_to != NULL ? p->deliver_to : p->rcpt;
		if (n == 4 && memcmp(s + 1, "long", 4) == 0) {
			for (i = 0; i < LONG_LOCAL_PART; i++)
				if (put(buf, size, &len, "x", 1) != 0)
					return -1;
			s = end + 1;
			continue;
		}
		if (val == NULL)
			return -1;	/* unknown name or unset value */
		if (put(buf, size, &len, val, strlen(val)) != 0)
			return -1;
		s = end + 1;
	}
	buf[len] = '\0';
	return (int)len;
}

bool probe_def_ready(const struct probe_def *def, const struct probe_params *p)
{
	char buf[1024];
	size_t i;

	for (i = 0; i < def->nsteps; i++)
		if (def->steps[i].command != NULL &&
		    probe_expand(def->steps[i].command, p, buf, sizeof(buf)) < 0)
			return false;
	return true;
}
