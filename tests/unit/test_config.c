/*
 * SPDX-License-Identifier: ISC
 * test_config.c - loading the milter's configuration: every error
 * message with its file and line, all errors of a file at once, the
 * built-in defaults, the sample etc/smtpreply.conf, the normalization of
 * configured replies at load time (and the changes recorded), policy
 * overrides, run-time rendering of templates, reference counting.
 *
 * Each case writes a small file into a private temporary directory; "F"
 * at the start of an expected line stands for that file's path.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "conf.h"
#include "conftest.h"
#include "testutil.h"


static char tmpdir[64];

static void setup(void)
{
	strcpy(tmpdir, "/tmp/test_config.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/smtpreply.conf", tmpdir);
	unlink(path);
	rmdir(tmpdir);
}

/* Write TEXT to the test file; returns its path (static per test). */
static const char *write_conf(const char *text)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/smtpreply.conf", tmpdir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* All error lines joined by "\n", with PATH replaced by "F". */
static char *joined(const struct conf_errors *e, const char *path)
{
	size_t i, len = 1, plen = strlen(path);
	char *out, *p;

	for (i = 0; i < e->n; i++)
		len += strlen(e->lines[i]) + 1;
	out = calloc(1, len);
	ck_assert_ptr_nonnull(out);
	for (i = 0, p = out; i < e->n; i++) {
		const char *l = e->lines[i];

		if (i > 0)
			*p++ = '\n';
		if (strncmp(l, path, plen) == 0) {
			*p++ = 'F';
			l += plen;
		}
		p = stpcpy(p, l);
	}
	return out;
}

/* Load TEXT; expect success (ERR NULL) or exactly the error lines ERR. */
static struct conf *load_text(const char *text, const char *err)
{
	const char *path = write_conf(text);
	struct conf_errors e;
	struct conf *cfg = NULL;
	char *got;
	int rc;

	conf_errors_init(&e);
	rc = conf_load(path, &cfg, &e);
	got = joined(&e, path);
	if (err == NULL) {
		ck_assert_msg(rc == 0 && cfg != NULL, "unexpected errors:\n%s", got);
	} else {
		ck_assert_msg(rc == -1 && cfg == NULL, "loaded, expected:\n%s", err);
		ck_assert_msg(strcmp(got, err) == 0, "expected:\n%s\ngot:\n%s", err, got);
	}
	free(got);
	conf_errors_free(&e);
	return cfg;
}

/* ---- every error message ----------------------------------------------- */

struct erow {
	const char *text;
	const char *err;
};

#define RULE(body) "rules = ( {\n" body "} );\n"

static const struct erow erows[] = {
	/* syntax: libconfig's own message, its line */
	{ "socket = \"inet:1@x\"\nlog = {\n", "F:3: syntax error" },
	{ "a = 1;\na = 2;\n", "F:2: duplicate setting name" },
	/* unknown settings at every level */
	{ "sockett = \"x\";\n", "F:1: unknown setting 'sockett'" },
	{ "log = {\n facility = \"mail\";\n lvl = \"info\";\n};\n",
	  "F:3: unknown setting 'lvl' in log" },
	{ "normalize = { utf = true; };\n", "F:1: unknown setting 'utf' in normalize" },
	{ "normalize = {\n default_enhanced = ( { code = 450; enhanced = \"4.2.0\"; x = 1; } );\n};\n",
	  "F:2: unknown setting 'x' in normalize.default_enhanced entry 1" },
	{ "replies = {\n reject = \"550 5.7.1 no\";\n accept = \"250 ok\";\n};\n",
	  "F:3: unknown setting 'accept' in replies" },
	{ RULE("name = \"r\"; phase = \"mail\"; action = \"reject\";\nsendr = \"/x/\";\n"),
	  "F:3: rule 'r': unknown setting 'sendr'" },
	{ RULE("name = \"r\"; phase = \"header\"; action = \"reject\";\n"
	       "header = { name = \"Subject\"; val = \"/x/\"; };\n"),
	  "F:3: rule 'r': unknown setting 'val' in header condition" },
	/* wrong types */
	{ "socket = 8891;\n", "F:1: 'socket' must be a string, not an integer" },
	{ "user = true;\n", "F:1: 'user' must be a string, not a boolean" },
	{ "group = \"\";\n", "F:1: 'group' must not be empty" },
	{ "pidfile = [ \"a\" ];\n", "F:1: 'pidfile' must be a string, not an array" },
	{ "log = \"mail\";\n", "F:1: 'log' must be a group, not a string" },
	{ "log = { level = 7; };\n", "F:1: 'log.level' must be a string, not an integer" },
	{ "audit_mta_rejects = \"yes\";\n", "F:1: 'audit_mta_rejects' must be a boolean, not a string" },
	{ "normalize = { utf8 = 1; };\n", "F:1: 'normalize.utf8' must be a boolean, not an integer" },
	{ "normalize = { accept_missing_code = \"yes\"; };\n",
	  "F:1: 'normalize.accept_missing_code' must be a boolean, not a string" },
	{ "normalize = { default_enhanced = { code = 450; }; };\n",
	  "F:1: 'normalize.default_enhanced' must be a list of groups, not a group" },
	{ "normalize = { nonstandard = ( 557 ); };\n",
	  "F:1: normalize.nonstandard entry 1 must be a group { code = ...; replace = ...; }" },
	{ "normalize = { nonstandard = ( { code = \"557\"; replace = \"554\"; } ); };\n",
	  "F:1: 'code' must be an integer, not a string" },
	{ "normalize = { default_enhanced = ( { code = 450; } ); };\n",
	  "F:1: normalize.default_enhanced entry 1 needs both 'code' and 'enhanced'" },
	{ "rules = { };\n", "F:1: 'rules' must be a list ( { ... }, { ... } ), not a group" },
	{ "rules = ( \"r\" );\n",
	  "F:1: rule #1: must be a group { name = ...; phase = ...; action = ...; }" },
	{ RULE("name = \"r\"; phase = \"mail\"; action = \"reject\";\nauthenticated = \"yes\";\n"),
	  "F:3: rule 'r': 'authenticated' must be a boolean, not a string" },
	{ RULE("name = \"r\"; phase = \"mail\"; action = \"reject\";\nsender = [ \"/x/\" ];\n"),
	  "F:3: rule 'r': 'sender' must be a string, not an array" },
	{ RULE("name = \"r\"; phase = \"mail\"; action = \"reject\";\nclient = 42;\n"),
	  "F:3: rule 'r': 'client' must be an address, a CIDR block or a non-empty list of them" },
	{ RULE("name = \"r\"; phase = \"mail\"; action = \"reject\";\nreply = 550;\n"),
	  "F:3: rule 'r': 'reply' must be a string or a non-empty list of strings" },
	{ RULE("name = \"r\"; phase = \"mail\"; action = \"reject\";\nreply = ( );\n"),
	  "F:3: rule 'r': 'reply' must be a string or a non-empty list of strings" },
	{ RULE("name = \"r\"; phase = 3; action = \"reject\";\n"),
	  "F:2: rule 'r': 'phase' must be a string, not an integer" },
	/* unknown names */
	{ "log = { facility = \"mial\"; };\n",
	  "F:1: unknown log facility 'mial' (mail, daemon, local0 ... local7, ...)" },
	{ "log = { level = \"verbose\"; };\n",
	  "F:1: unknown log level 'verbose' (emerg, alert, crit, err, warning, notice, info, debug)" },
	{ "on_error = \"reject\";\n", "F:1: 'on_error' must be 'tempfail' or 'accept', not 'reject'" },
	{ "socket = \"tcp:8891\";\n",
	  "F:1: 'socket' \"tcp:8891\": socket must be inet:PORT@HOST, inet6:PORT@HOST or unix:PATH" },
	/* hardening (#12): a port libmilter would wrap, a relative path */
	{ "socket = \"inet:94562@127.0.0.1\";\n",
	  "F:1: 'socket' \"inet:94562@127.0.0.1\": the port must be a number from 1 to 65535" },
	{ "socket = \"inet:0@127.0.0.1\";\n",
	  "F:1: 'socket' \"inet:0@127.0.0.1\": the port must be a number from 1 to 65535" },
	{ "socket = \"inet:99999999999999999999@127.0.0.1\";\n",
	  "F:1: 'socket' \"inet:99999999999999999999@127.0.0.1\": the port must be a number from 1 to 65535" },
	{ "socket = \"inet:88a@127.0.0.1\";\n",
	  "F:1: 'socket' \"inet:88a@127.0.0.1\": the port must be a number from 1 to 65535" },
	{ "socket = \"inet:8891@\";\n",
	  "F:1: 'socket' \"inet:8891@\": socket must be inet:PORT@HOST, inet6:PORT@HOST or unix:PATH" },
	{ "socket = \"unix:run/x.sock\";\n",
	  "F:1: 'socket' \"unix:run/x.sock\": a unix socket needs an absolute path" },
	/* session limits (#5) */
	{ "max_sessions = 0;\n", "F:1: 'max_sessions' must be from 1 to 100000" },
	{ "max_sessions = \"many\";\n", "F:1: 'max_sessions' must be an integer, not a string" },
	{ "session_timeout = 5;\n", "F:1: 'session_timeout' must be from 10 to 86400" },
	{ "session_timeout = 99999999999;\n", "F:1: 'session_timeout' must be from 10 to 86400" },
	/* a huge code is not shown as libconfig's wrapped value (#12) */
	{ "normalize = { nonstandard = ( { code = 99999999999999999999; replace = \"550\"; } ); };\n",
	  "F:1: normalize.nonstandard entry 1: 'code' must be a reply code from 100 to 999" },
	{ "normalize = { default_enhanced = ( { code = -1; enhanced = \"5.7.1\"; } ); };\n",
	  "F:1: normalize.default_enhanced entry 1: 'code' must be a reply code from 100 to 999" },
	/* a long bad regex keeps PCRE2's reason and offset (#12) */
	{ RULE("name = \"r\"; phase = \"mail\"; action = \"reject\";\n"
	       "sender = \"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa(/\";\n"),
	  "F:3: rule 'r': sender: bad regular expression: missing closing parenthesis at offset 396 in /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa..." },
	/* the "filter" group: the socketmap service */
	{ "filter = 1;\n", "F:1: 'filter' must be a group" },
	{ "filter = { socket_mode = \"0660\"; };\n", "F:1: filter: 'socket' is required" },
	{ "filter = {\n socket = \"tcp:1\";\n};\n",
	  "F:2: filter: 'socket' \"tcp:1\": socket must be inet:PORT@HOST, inet6:PORT@HOST or unix:PATH" },
	{ "filter = {\n socket = \"unix:\";\n};\n",
	  "F:2: filter: 'socket' \"unix:\": a unix socket needs an absolute path" },
	{ "filter = {\n socket = 10026;\n};\n", "F:2: filter: 'socket' must be a string" },
	{ "filter = { socket = \"inet:1@x\";\n socket_mode = \"0999\"; };\n",
	  "F:2: filter: 'socket_mode' must be an octal mode such as \"0660\", not \"0999\"" },
	{ "filter = { socket = \"inet:1@x\";\n group = \"\"; };\n",
	  "F:2: filter: 'group' must not be empty" },
	{ "filter = { socket = \"inet:1@x\";\n max_connections = 0; };\n",
	  "F:2: filter: 'max_connections' must be 1 to 4096" },
	{ "filter = { socket = \"inet:1@x\";\n max_connections = \"9\"; };\n",
	  "F:2: filter: 'max_connections' must be an integer" },
	{ "filter = { socket = \"inet:1@x\";\n sockett = 1; };\n",
	  "F:2: filter: unknown setting 'sockett'" },
	{ "socket_mode = \"0669\";\n",
	  "F:1: 'socket_mode' must be an octal mode such as \"0660\", not \"0669\"" },
	{ "socket_mode = 660;\n", "F:1: 'socket_mode' must be a string, not an integer" },
	{ RULE("name = \"r\";\nphase = \"rcpt-to\"; action = \"reject\";\n"),
	  "F:3: rule 'r': unknown phase 'rcpt-to' (connect, helo, mail, rcpt, data, header, eom)" },
	{ RULE("name = \"r\"; phase = \"rcpt\";\naction = \"drop\";\n"),
	  "F:3: rule 'r': unknown action 'drop' (accept, reject, tempfail, discard, quarantine, continue)" },
	/* missing parts of a rule, bad names, duplicates */
	{ RULE("phase = \"rcpt\"; action = \"reject\";\n"), "F:1: rule #1: has no 'name'" },
	{ RULE("name = \"r\"; action = \"reject\";\n"), "F:1: rule 'r': has no 'phase'" },
	{ RULE("name = \"r\"; phase = \"rcpt\";\n"), "F:1: rule 'r': has no 'action'" },
	{ RULE("name = \"bad name\"; phase = \"rcpt\"; action = \"reject\";\n"),
	  "F:2: rule #1: bad name 'bad name' (1 to 64 letters, digits, '-', '_' or '.')" },
	{ "rules = (\n { name = \"a\"; phase = \"rcpt\"; action = \"reject\"; },\n"
	  " { name = \"a\"; phase = \"mail\"; action = \"reject\"; }\n);\n",
	  "F:3: duplicate rule name 'a' (first defined at line 2)" },
	{ "rules = (\n { name = \"a\"; phase = \"x\"; action = \"reject\"; },\n"
	  " { name = \"a\"; phase = \"mail\"; action = \"reject\"; }\n);\n",
	  "F:2: rule 'a': unknown phase 'x' (connect, helo, mail, rcpt, data, header, eom)\n"
	  "F:3: duplicate rule name 'a' (first defined at line 2)" },
	/* conditions at a phase that does not know them */
	{ RULE("name = \"r\"; phase = \"mail\"; action = \"reject\";\nrcpt = \"/x/\";\n"),
	  "F:3: rule 'r': condition 'rcpt' cannot be used at phase mail (the MTA has not told it yet; only at phase rcpt)" },
	{ RULE("name = \"r\"; phase = \"connect\"; action = \"reject\";\nhelo = \"/x/\";\n"),
	  "F:3: rule 'r': condition 'helo' cannot be used at phase connect (the MTA has not told it yet)" },
	{ RULE("name = \"r\"; phase = \"eom\"; action = \"reject\";\n"
	       "header = { name = \"Subject\"; };\n"),
	  "F:3: rule 'r': condition 'header' cannot be used at phase eom (the MTA has not told it yet; only at phase header)" },
	{ RULE("name = \"r\"; phase = \"helo\"; action = \"accept\";\nauthenticated = true;\n"),
	  "F:3: rule 'r': condition 'authenticated' cannot be used at phase helo (the MTA has not told it yet)" },
	/* bad regex, CIDR, header and macro conditions */
	{ RULE("name = \"r\"; phase = \"mail\"; action = \"reject\";\nsender = \"/(a/\";\n"),
	  "F:3: rule 'r': sender: bad regular expression: missing closing parenthesis at offset 2 in /(a/" },
	{ RULE("name = \"r\"; phase = \"mail\"; action = \"reject\";\nsender = \"spam\";\n"),
	  "F:3: rule 'r': sender: regular expression must be written /.../ (optional flag i)" },
	{ RULE("name = \"r\"; phase = \"mail\"; action = \"reject\";\nsender = \"/x/g\";\n"),
	  "F:3: rule 'r': sender: unknown regular expression flag 'g' (only i)" },
	{ RULE("name = \"r\"; phase = \"connect\"; action = \"reject\";\n"
	       "client = ( \"192.0.2.0/24\",\n \"192.0.2.0/33\",\n \"2001:db8::1/32\" );\n"),
	  "F:4: rule 'r': client '192.0.2.0/33': prefix length over 32 for IPv4\n"
	  "F:5: rule 'r': client '2001:db8::1/32': host bits set (did you mean 2001:db8::/32?)" },
	{ RULE("name = \"r\"; phase = \"connect\"; action = \"reject\";\nclient = \"192.0.2.0/\";\n"),
	  "F:3: rule 'r': client '192.0.2.0/': bad prefix length" },
	{ RULE("name = \"r\"; phase = \"connect\"; action = \"reject\";\nclient = \"mx.example.org\";\n"),
	  "F:3: rule 'r': client 'mx.example.org': bad address" },
	{ RULE("name = \"r\"; phase = \"header\"; action = \"reject\";\nheader = { value = \"/x/\"; };\n"),
	  "F:3: rule 'r': header condition needs a 'name'" },
	{ RULE("name = \"r\"; phase = \"header\"; action = \"reject\";\nheader = { name = \"Sub ject\"; };\n"),
	  "F:3: rule 'r': bad header name 'Sub ject'" },
	{ RULE("name = \"r\"; phase = \"header\"; action = \"reject\";\nheader = \"Subject\";\n"),
	  "F:3: rule 'r': 'header' must be a group, not a string" },
	{ RULE("name = \"r\"; phase = \"mail\"; action = \"reject\";\n"
	       "macro = { name = \"{auth_authen}\"; value = \"/+/\"; };\n"),
	  "F:3: rule 'r': macro.value: bad regular expression: quantifier does not follow a repeatable item at offset 0 in /+/" },
	/* templates */
	{ RULE("name = \"r\"; phase = \"mail\"; action = \"reject\";\nreply = \"550 5.7.1 ${from}\";\n"),
	  "F:3: rule 'r': reply: unknown variable ${from} (known: ${client_addr}, ${client_name}, "
	  "${helo}, ${sender}, ${rcpt}, ${queue_id}, ${rule})" },
	{ RULE("name = \"r\"; phase = \"mail\"; action = \"reject\";\nreply = \"550 5.7.1 ${sender\";\n"),
	  "F:3: rule 'r': reply: unterminated ${" },
	{ RULE("name = \"r\"; phase = \"mail\"; action = \"reject\";\nreply = \"${rule} rejected\";\n"),
	  "F:3: rule 'r': reply \"${rule} rejected\": a variable cannot stand in the reply code" },
	{ RULE("name = \"r\"; phase = \"mail\"; action = \"reject\";\nreply = \"550 5.7.1 a\\nb\";\n"),
	  "F:3: rule 'r': reply line 1 contains a line break (write a multi-line reply as a list of strings)" },
	/* replies and actions */
	{ RULE("name = \"r\"; phase = \"rcpt\"; action = \"reject\";\nreply = \"451 4.7.1 later\";\n"),
	  "F:3: rule 'r': action reject needs a 5xx reply, not 451" },
	{ RULE("name = \"r\"; phase = \"rcpt\"; action = \"tempfail\";\nreply = \"550 5.7.1 no\";\n"),
	  "F:3: rule 'r': action tempfail needs a 4xx reply, not 550" },
	{ RULE("name = \"r\"; phase = \"rcpt\"; action = \"accept\";\nreply = \"250 2.1.5 ok\";\n"),
	  "F:3: rule 'r': action accept takes no reply" },
	{ RULE("name = \"r\"; phase = \"rcpt\"; action = \"discard\";\nreply = \"550 5.7.1 no\";\n"),
	  "F:3: rule 'r': action discard takes no reply" },
	{ RULE("name = \"r\"; phase = \"rcpt\"; action = \"continue\";\nreply = \"550 5.7.1 no\";\n"),
	  "F:3: rule 'r': action continue takes no reply" },
	{ RULE("name = \"r\"; phase = \"connect\";\naction = \"discard\";\n"),
	  "F:3: rule 'r': action discard cannot be used at phase connect (the MTA "
	  "discards messages, not connections; use phase mail)" },
	{ RULE("name = \"r\"; phase = \"helo\";\naction = \"discard\";\n"),
	  "F:3: rule 'r': action discard cannot be used at phase helo (the MTA "
	  "discards messages, not connections; use phase mail)" },
	{ RULE("name = \"r\"; phase = \"eom\"; action = \"quarantine\";\nreply = ( \"a\", \"b\" );\n"),
	  "F:3: rule 'r': 'reply' of a quarantine rule (the reason) must be a string" },
	{ RULE("name = \"r\"; phase = \"rcpt\"; action = \"reject\";\nreply = \"Go away\";\n"),
	  "F:3: rule 'r': reply \"Go away\" cannot be used: no reply code" },
	{ RULE("name = \"r\"; phase = \"rcpt\"; action = \"reject\";\nreply = \"250 2.1.5 ok\";\n"),
	  "F:3: rule 'r': reply \"250 2.1.5 ok\" cannot be used: reply code 250: libmilter can send only 4xx and 5xx replies" },
	{ "replies = {\n reject = \"451 4.7.1 later\";\n tempfail = \"550 5.7.1 no\";\n};\n",
	  "F:2: replies.reject: action reject needs a 5xx reply, not 451\n"
	  "F:3: replies.tempfail: action tempfail needs a 4xx reply, not 550" },
	{ "replies = { reject = 550; };\n",
	  "F:1: 'replies.reject' must be a string or a non-empty list of strings" },
	/* policy overrides the engine refuses */
	{ "normalize = {\n default_enhanced = ( { code = 550; enhanced = \"4.2.0\"; } );\n};\n",
	  "F:2: normalize.default_enhanced: the engine refuses 4.2.0 as the default enhanced code "
	  "of 550 (the code must be 2xx, 4xx or 5xx and the class must match it)" },
	{ "normalize = {\n default_enhanced = ( { code = 1000; enhanced = \"5.2.0\"; } );\n};\n",
	  "F:2: normalize.default_enhanced entry 1: 'code' must be a reply code from 100 to 999" },
	{ "normalize = {\n nonstandard = ( { code = 557; replace = \"554 4.7.1\"; } );\n};\n",
	  "F:2: normalize.nonstandard: the engine refuses to replace 557 by \"554 4.7.1\" "
	  "(a standard code of the same class, with a matching enhanced code)" },
	{ "normalize = {\n nonstandard = ( { code = 557; replace = \"5540\"; } );\n};\n",
	  "F:2: normalize.nonstandard: 'replace' must be \"CODE\" or \"CODE X.Y.Z\", not \"5540\"" },
	/* every error of a file at once, in file order */
	{ "sockett = 1;\nlog = { level = \"loud\"; };\non_error = \"drop\";\n"
	  "rules = (\n { name = \"a\"; phase = \"rcpt\"; action = \"reject\"; reply = \"451 x\"; },\n"
	  " { name = \"b\"; phase = \"mail\"; action = \"nope\"; sender = \"/(/\"; }\n);\n",
	  "F:1: unknown setting 'sockett'\n"
	  "F:2: unknown log level 'loud' (emerg, alert, crit, err, warning, notice, info, debug)\n"
	  "F:3: 'on_error' must be 'tempfail' or 'accept', not 'drop'\n"
	  "F:5: rule 'a': action reject needs a 5xx reply, not 451\n"
	  "F:6: rule 'b': unknown action 'nope' (accept, reject, tempfail, discard, quarantine, continue)\n"
	  "F:6: rule 'b': sender: bad regular expression: missing closing parenthesis at offset 1 in /(/" },
};

START_TEST(test_error)
{
	load_text(erows[_i].text, erows[_i].err);
}
END_TEST

/* Only a regular file of at most 16 MiB is read; nothing blocks (#6). */
START_TEST(test_not_regular_or_too_big)
{
	struct conf_errors e;
	struct conf *cfg = NULL;
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/smtpreply.conf", tmpdir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);	/* no writer: open() would hang */
	conf_errors_init(&e);
	ck_assert_int_eq(conf_load(path, &cfg, &e), -1);
	ck_assert_uint_eq(e.n, 1);
	ck_assert_ptr_nonnull(strstr(e.lines[0], "not a regular file: refused"));
	conf_errors_free(&e);
	unlink(path);

	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("on_error = \"accept\";\n", f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(truncate(path, CONF_MAX_BYTES + 1), 0);
	conf_errors_init(&e);
	ck_assert_int_eq(conf_load(path, &cfg, &e), -1);
	ck_assert_uint_eq(e.n, 1);
	ck_assert_msg(strstr(e.lines[0], "16777217 bytes: over the limit of 16 MiB") != NULL,
		      "%s", e.lines[0]);
	conf_errors_free(&e);
	ck_assert_int_eq(truncate(path, CONF_MAX_BYTES), 0);	/* NULs: a syntax error */
	conf_errors_init(&e);
	ck_assert_int_eq(conf_load(path, &cfg, &e), -1);
	ck_assert_ptr_null(strstr(e.lines[0], "over the limit"));
	conf_errors_free(&e);
}
END_TEST

/*
 * @include: every included file is checked as the main one is, before
 * libconfig opens it (#10). Each row writes the main file ("%D" is the
 * test's directory) and the files below; "fifo" is a FIFO with no writer
 * (libconfig's own open would hang), "big" 9 MiB of spaces (two of them
 * are over 16 MiB together).
 */
static const struct {
	const char *main;
	const char *err;		/* substring of the only error; NULL: loads */
} include_rows[] = {
	{ "@include \"%D/ok.conf\"\n", NULL },
	{ "  \t@include  \"%D/ok.conf\"\nmax_sessions = 10;\n", NULL },
	{ "@include \"%D/fifo\"\n",
	  "smtpreply.conf:1: @include \"%D/fifo\": not a regular file: refused" },
	{ "max_sessions = 10;\n@include \"/dev/zero\"\n",
	  "smtpreply.conf:2: @include \"/dev/zero\": not a regular file: refused" },
	{ "@include \"%D\"\n", "not a regular file: refused" },
	{ "@include \"%D/none.conf\"\n",
	  "@include \"%D/none.conf\": cannot read the file: No such file" },
	{ "@include \"%D/nested.conf\"\n",
	  "nested.conf:1: @include \"%D/fifo\": not a regular file: refused" },
	{ "@include \"%D/loop.conf\"\n", "nested deeper than 10 files" },
	{ "@include \"%D/big\"\n@include \"%D/big\"\n",
	  "smtpreply.conf:2: @include \"%D/big\": the files of the configuration "
	  "are over 16 MiB together" },
	{ "@include \"%D/f\\x69fo\"\n", "@include \"%D/fifo\": not a regular" },
	{ "@include \"%D/fifo\n", "@include: a file name that cannot be read" },
	/* Not directives for libconfig: not checked (the FIFO is never
	 * opened). */
	{ "# @include \"%D/fifo\"\n", NULL },
	{ "// @include \"%D/fifo\"\n", NULL },
	{ "/* x\n@include \"%D/fifo\"\n*/\n", NULL },
	{ "max_sessions = 10; /* @include \"%D/fifo\" */\n", NULL },
	{ "x@include \"%D/fifo\"\n", "syntax error" },
};

/* Write TEXT to DIR/NAME with every "%D" replaced by DIR. */
static void write_expanded(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	for (; *text != '\0'; text++)
		if (text[0] == '%' && text[1] == 'D') {
			fputs(dir, f);
			text++;
		} else {
			fputc(*text, f);
		}
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_include)
{
	struct conf_errors e;
	struct conf *cfg = NULL;
	char path[256], want[512];
	const char *w;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	write_expanded(tmpdir, "ok.conf", "on_error = \"accept\";\n");
	write_expanded(tmpdir, "nested.conf", "@include \"%D/fifo\"\n");
	write_expanded(tmpdir, "loop.conf", "@include \"%D/loop.conf\"\n");
	write_expanded(tmpdir, "big", "");
	snprintf(path, sizeof(path), "%s/big", tmpdir);
	ck_assert_int_eq(truncate(path, 9 << 20), 0);
	write_expanded(tmpdir, "smtpreply.conf", include_rows[_i].main);
	snprintf(path, sizeof(path), "%s/smtpreply.conf", tmpdir);
	for (w = include_rows[_i].err; w != NULL && *w != '\0' &&
	    n < sizeof(want) - 64; w++)
		if (w[0] == '%' && w[1] == 'D') {
			n += (size_t)snprintf(want + n, sizeof(want) - n, "%s",
			    tmpdir);
			w++;
		} else {
			want[n++] = *w;
		}
	want[n] = '\0';
	conf_errors_init(&e);
	if (include_rows[_i].err == NULL) {
		ck_assert_msg(conf_load(path, &cfg, &e) == 0, "%s: %s",
		    include_rows[_i].main, e.n > 0 ? e.lines[0] : "");
		if (strstr(include_rows[_i].main, "ok.conf") != NULL)
			ck_assert_int_eq(cfg->on_error, CONF_ON_ERROR_ACCEPT);
		conf_unref(cfg);
	} else {
		ck_assert_int_eq(conf_load(path, &cfg, &e), -1);
		ck_assert_uint_eq(e.n, 1);
		ck_assert_msg(strstr(e.lines[0], want) != NULL, "%s: want '%s', "
		    "got '%s'", include_rows[_i].main, want, e.lines[0]);
	}
	conf_errors_free(&e);
}
END_TEST

/*
 * Loading is linear in the number of rules (#7: the duplicate-name check
 * was quadratic: 10k rules 0.71 s, 40k 8.22 s). Counted, not timed: the
 * slots the name index visits while the file is loaded (every rule's
 * insertion and the index's growth) must stay a small constant per rule,
 * so four times the rules visit about four times the slots (a quadratic
 * check: sixteen). Names as an administrator writes them, numbered.
 */
static size_t load_rules_visits(size_t n)
{
	struct conf_errors e;
	struct conf *cfg = NULL;
	char path[128];
	size_t i, visits;
	FILE *f;

	snprintf(path, sizeof(path), "%s/smtpreply.conf", tmpdir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("rules = (\n", f);
	for (i = 0; i < n; i++)
		fprintf(f, "%s{ name = \"rule-%zu\"; phase = \"rcpt\"; action = \"continue\"; }\n",
			i > 0 ? "," : "", i);
	fputs(");\n", f);
	ck_assert_int_eq(fclose(f), 0);
	conf_errors_init(&e);
	ck_assert_int_eq(conf_load(path, &cfg, &e), 0);
	ck_assert_uint_eq(cfg->rules.nrules, n);
	ck_assert_ptr_nonnull(rule_set_find(&cfg->rules, "rule-0"));
	ck_assert_ptr_nonnull(rule_set_find(&cfg->rules, "rule-7777"));
	ck_assert_ptr_null(rule_set_find(&cfg->rules, "rule-x"));
	visits = cfg->rules.name_visits;
	conf_unref(cfg);
	conf_errors_free(&e);
	return visits;
}

START_TEST(test_load_is_linear)
{
	size_t small = load_rules_visits(10000), big = load_rules_visits(40000);

	/* Each rule is inserted once and moved at most once per doubling
	 * (amortized under two moves), each visiting a few slots. */
	ck_assert_msg(small < 10000 * 6 && big < 40000 * 6,
		      "10k rules %zu visits, 40k rules %zu", small, big);
	ck_assert_msg(big < 5 * small, "10k rules %zu visits, 40k rules %zu",
		      small, big);
}
END_TEST

/* A duplicate name among many is still found, with the first line. */
START_TEST(test_duplicate_among_many)
{
	struct conf_errors e;
	struct conf *cfg = NULL;
	char path[128];
	size_t i;
	FILE *f;

	snprintf(path, sizeof(path), "%s/smtpreply.conf", tmpdir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("rules = (\n", f);
	for (i = 0; i < 3000; i++)
		fprintf(f, "%s{ name = \"r%zu\"; phase = \"rcpt\"; action = \"continue\"; }\n",
			i > 0 ? "," : "", i == 2999 ? (size_t)1234 : i);
	fputs(");\n", f);
	ck_assert_int_eq(fclose(f), 0);
	conf_errors_init(&e);
	ck_assert_int_eq(conf_load(path, &cfg, &e), -1);
	ck_assert_uint_eq(e.n, 1);
	ck_assert_msg(strstr(e.lines[0], ":3001: duplicate rule name 'r1234' (first defined at line 1236)") != NULL,
		      "%s", e.lines[0]);
	conf_errors_free(&e);
}
END_TEST

START_TEST(test_missing_file)
{
	struct conf_errors e;
	struct conf *cfg = NULL;
	char path[128];

	snprintf(path, sizeof(path), "%s/none.conf", tmpdir);
	conf_errors_init(&e);
	ck_assert_int_eq(conf_load(path, &cfg, &e), -1);
	ck_assert_ptr_null(cfg);
	ck_assert_uint_eq(e.n, 1);
	ck_assert_str_eq(strstr(e.lines[0], "none.conf"), "none.conf: cannot read the file: No such file or directory");
	conf_errors_free(&e);
}
END_TEST

/* ---- what a good file gives ---------------------------------------------- */

START_TEST(test_defaults)
{
	struct conf_errors e;
	struct conf *cfg = NULL;
	const struct sr_normalized *n;

	conf_errors_init(&e);
	ck_assert_int_eq(conf_load(NULL, &cfg, &e), 0);
	ck_assert_uint_eq(e.n, 0);
	ck_assert_ptr_null(cfg->file);
	ck_assert_str_eq(cfg->socket, "inet:8891@localhost");
	ck_assert_ptr_null(cfg->user);
	ck_assert(!cfg->socket_mode_set);
	ck_assert_int_eq(cfg->log_facility, LOG_MAIL);
	ck_assert_int_eq(cfg->log_level, LOG_INFO);
	ck_assert_int_eq(cfg->on_error, CONF_ON_ERROR_TEMPFAIL);
	ck_assert(cfg->audit_mta_rejects);
	ck_assert(!cfg->utf8);
	ck_assert_uint_eq(cfg->rules.nrules, 0);
	ck_assert_uint_eq(rules_phases_needed(&cfg->rules), 0);
	n = reply_fixed(cfg->reject[SR_PHASE_RCPT]);
	ck_assert_ptr_nonnull(n);
	ck_assert_str_eq(n->wire, "550 5.7.1 Command rejected");
	n = reply_fixed(cfg->tempfail[SR_PHASE_MAIL]);
	ck_assert_ptr_nonnull(n);
	ck_assert_str_eq(n->wire, "451 4.7.1 Please try again later");
	conf_unref(cfg);
	conf_errors_free(&e);
}
END_TEST

START_TEST(test_sample)
{
	const char *top = getenv("top_srcdir");
	struct conf_errors e;
	struct conf *cfg = NULL;
	char path[4096];
	size_t i;

	snprintf(path, sizeof(path), "%s/etc/smtpreply.conf", top != NULL ? top : "..");
	conf_errors_init(&e);
	ck_assert_msg(conf_load(path, &cfg, &e) == 0, "%s: %s", path,
		      e.n > 0 ? e.lines[0] : "?");
	ck_assert_uint_eq(cfg->rules.nrules, 7);
	ck_assert_uint_eq(rules_phases_needed(&cfg->rules),
			  (1u << RULE_PHASE_CONNECT) | (1u << RULE_PHASE_MAIL) |
			  (1u << RULE_PHASE_RCPT) | (1u << RULE_PHASE_HEADER) |
			  (1u << RULE_PHASE_EOM));
	for (i = 0; i < cfg->rules.nrules; i++) {
		const struct rule *r = cfg->rules.rules[i];
		const struct reply *rp = conf_rule_reply(cfg, r);

		if (r->action == RULE_REJECT || r->action == RULE_TEMPFAIL) {
			ck_assert_ptr_nonnull(rp);
			ck_assert_int_eq(rp->norm.status, SR_NORM_OK);
		}
	}
	{
		const struct rule *r = rule_set_find(&cfg->rules, "reject-old-relay");

		ck_assert_ptr_nonnull(r);
		ck_assert_str_eq(r->reply->norm.wire,
				 "550-5.7.1 This relay was retired.\r\n"
				 "550 5.7.1 Please use mx.example.org instead.");
		ck_assert_uint_eq(r->reply->norm.nchanges, 0);
	}
	conf_unref(cfg);
	conf_errors_free(&e);
}
END_TEST

static const struct sr_change *find_change(const struct sr_normalized *n,
					   enum sr_diag_id id)
{
	size_t i;

	for (i = 0; i < n->nchanges; i++)
		if (n->changes[i].id == id)
			return &n->changes[i];
	return NULL;
}

/* Replies normalized at load time, with the changes recorded. */
struct nrow {
	const char *phase;
	const char *action;
	const char *reply;	/* libconfig value */
	const char *normalize;	/* extra normalize block, or NULL */
	const char *wire;	/* expected normalized wire form */
	int change;		/* a diag id that must be among the changes, -1 none */
	const char *before, *after;
};

static const struct nrow nrows[] = {
	{ "rcpt", "reject", "\"550 4.7.1 Recipient rejected\"", NULL,
	  "550 5.7.1 Recipient rejected", SR_D_ENHANCED_CLASS_MISMATCH, "550 4.7.1", "550 5.7.1" },
	{ "rcpt", "reject", "\"572 Relay not permitted\"", NULL,
	  "550 5.7.1 Relay not permitted", SR_D_CODE_SYNTAX, NULL, NULL },
	{ "rcpt", "reject", "\"557 5.7.1 Go away\"", NULL,
	  "550 5.7.1 Go away", SR_D_CODE_NONSTANDARD, "557", "550" },
	{ "rcpt", "reject", "\"557 Go away\"",
	  "normalize = { nonstandard = ( { code = 557; replace = \"554 5.7.1\"; } ); };\n",
	  "554 5.7.1 Go away", SR_D_CODE_NONSTANDARD, "557", "554" },
	{ "mail", "tempfail", "\"450 Mailbox busy\"",
	  "normalize = { default_enhanced = ( { code = 450; enhanced = \"4.2.0\"; } ); };\n",
	  "450 4.2.0 Mailbox busy", SR_D_ENHANCED_MISSING, NULL, NULL },
	{ "mail", "tempfail", "\"451 100% full\"", NULL,
	  "451 4.7.1 100% full", SR_D_ENHANCED_MISSING, NULL, NULL },
	{ "mail", "reject", "\"550 5.1.1 Sender unknown\"", NULL,
	  "550 5.1.0 Sender unknown", SR_D_ENHANCED_PHASE, NULL, NULL },
	{ "rcpt", "reject", "( \"550 5.7.1 one\", \"550 5.7.1 two\" )", NULL,
	  "550-5.7.1 one\r\n550 5.7.1 two", -1, NULL, NULL },
	{ "rcpt", "reject", "( \"550-5.7.1 one\", \"550-5.7.1 two\" )", NULL,
	  "550-5.7.1 one\r\n550 5.7.1 two", -1, NULL, NULL },
	{ "header", "reject", "\"554 5.7.1 No ${rule}\"", NULL,
	  "554 5.7.1 No ${rule}", -1, NULL, NULL },
	{ "rcpt", "reject", "( \"550 5.7.1 a\", \"451 4.7.1 b\" )", NULL,
	  "550-5.7.1 a\r\n550 5.7.1 b", SR_D_MULTILINE_CODE_MISMATCH, NULL, NULL },
	{ "rcpt", "reject", "\"550 5.7.1 caf\xc3\xa9\"", NULL,
	  "550 5.7.1 caf??", SR_D_TEXT_NON_ASCII, NULL, NULL },
	{ "rcpt", "reject", "\"550 5.7.1 caf\xc3\xa9\"", "normalize = { utf8 = true; };\n",
	  "550 5.7.1 caf\xc3\xa9", -1, NULL, NULL },
	{ "rcpt", "reject", "\"550 5.7.1 bell\\x07here\"", NULL,
	  "550 5.7.1 bell here", SR_D_TEXT_BAD_CHAR, NULL, NULL },
};

START_TEST(test_normalized)
{
	const struct nrow *row = &nrows[_i];
	char text[1024];
	struct conf *cfg;
	const struct rule *r;
	const struct sr_change *c;

	snprintf(text, sizeof(text), "%srules = ( { name = \"r\"; phase = \"%s\"; "
		 "action = \"%s\"; reply = %s; } );\n",
		 row->normalize != NULL ? row->normalize : "", row->phase,
		 row->action, row->reply);
	cfg = load_text(text, NULL);
	r = rule_set_find(&cfg->rules, "r");
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(r->reply);
	ck_assert_int_eq(r->reply->norm.status, SR_NORM_OK);
	ck_assert_msg(strcmp(r->reply->norm.wire, row->wire) == 0, "row %d: got \"%s\"",
		      _i, r->reply->norm.wire);
	if (row->change >= 0) {
		c = find_change(&r->reply->norm, (enum sr_diag_id)row->change);
		ck_assert_msg(c != NULL, "row %d: no %s change", _i,
			      sr_diag_name((enum sr_diag_id)row->change));
		if (row->before != NULL) {
			ck_assert_str_eq(c->before, row->before);
			ck_assert_str_eq(c->after, row->after);
		}
	} else
		ck_assert_uint_eq(r->reply->norm.nchanges, 0);
	conf_unref(cfg);
}
END_TEST

/* Policy overrides apply to the "replies" block too, per phase. */
START_TEST(test_policy_replies)
{
	struct conf *cfg = load_text(
		"normalize = { default_enhanced = ( { code = 451; enhanced = \"4.3.0\"; } ); };\n"
		"replies = { tempfail = \"451 Busy\"; reject = \"550 5.1.1 No such user\"; };\n",
		NULL);

	ck_assert_str_eq(reply_fixed(cfg->tempfail[SR_PHASE_RCPT])->wire,
			 "451 4.3.0 Busy");
	ck_assert_str_eq(reply_fixed(cfg->reject[SR_PHASE_RCPT])->wire,
			 "550 5.1.1 No such user");
	ck_assert_str_eq(reply_fixed(cfg->reject[SR_PHASE_MAIL])->wire,
			 "550 5.1.0 No such user");
	ck_assert_str_eq(reply_fixed(cfg->reject[SR_PHASE_CONNECT])->wire,
			 "550 5.0.0 No such user");
	conf_unref(cfg);
}
END_TEST

START_TEST(test_settings)
{
	struct conf *cfg = load_text(
		"socket = \"unix:/run/smtpreply/milter.sock\";\nuser = \"smtpreply\";\n"
		"group = \"postfix\";\nsocket_mode = \"0660\";\npidfile = \"/run/x.pid\";\n"
		"log = { facility = \"local3\"; level = \"debug\"; };\non_error = \"accept\";\n"
		"audit_mta_rejects = false;\nnormalize = { utf8 = true; };\n", NULL);

	ck_assert_str_eq(cfg->socket, "unix:/run/smtpreply/milter.sock");
	ck_assert_str_eq(cfg->user, "smtpreply");
	ck_assert_str_eq(cfg->group, "postfix");
	ck_assert(cfg->socket_mode_set);
	ck_assert_uint_eq(cfg->socket_mode, 0660);
	ck_assert_str_eq(cfg->pidfile, "/run/x.pid");
	ck_assert_int_eq(cfg->log_facility, LOG_LOCAL3);
	ck_assert_int_eq(cfg->log_level, LOG_DEBUG);
	ck_assert_int_eq(cfg->on_error, CONF_ON_ERROR_ACCEPT);
	ck_assert(!cfg->audit_mta_rejects);
	ck_assert(cfg->utf8);
	conf_unref(cfg);
}
END_TEST

/*
 * -t is strict where a person is: a reply written without its basic code
 * is reported with file:line and the reply as sent, unless the file says
 * normalize.accept_missing_code = true.
 */
static int strict_report(const char *text, char *buf, size_t size)
{
	struct conf *cfg = load_text(text, NULL);
	FILE *fp = fmemopen(buf, size, "w");
	int n;

	ck_assert_ptr_nonnull(fp);
	n = conftest_strict(fp, cfg);
	fclose(fp);
	conf_unref(cfg);
	return n;
}

START_TEST(test_strict_missing_code)
{
	static const char rules[] =
		"rules = (\n"
		" { name = \"nb\"; phase = \"rcpt\"; action = \"reject\";\n"
		"   reply = \"5.7.1 Access denied\"; },\n"
		" { name = \"ok\"; phase = \"rcpt\"; action = \"reject\";\n"
		"   reply = \"550  5.7.1 two blanks\"; }\n);\n";
	char text[1024], buf[2048];

	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(strict_report(rules, buf, sizeof(buf) - 1), 1);
	ck_assert_msg(strstr(buf, ":3: rule 'nb': reply \"5.7.1 Access denied\" has "
			  "no basic code; it would be sent as \"550 5.7.1 Access "
			  "denied\"") != NULL, "got: %s", buf);
	ck_assert_msg(strstr(buf, "'ok'") == NULL, "blanks are no missing code: %s", buf);
	snprintf(text, sizeof(text), "normalize = { accept_missing_code = true; };\n%s",
		 rules);
	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(strict_report(text, buf, sizeof(buf) - 1), 0);
	ck_assert_str_eq(buf, "");
	snprintf(text, sizeof(text), "replies = { tempfail = \"4.7.1 later\"; };\n");
	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(strict_report(text, buf, sizeof(buf) - 1), 1);
	ck_assert_msg(strstr(buf, "replies.tempfail: reply \"4.7.1 later\"") != NULL,
		      "got: %s", buf);
}
END_TEST

START_TEST(test_filter_settings)
{
	struct conf *cfg = load_text("socket = \"none\";\nfilter = {\n socket = "
	    "\"unix:/var/spool/postfix/smtpreply/filter.sock\";\n socket_mode = "
	    "\"0660\";\n group = \"postfix\";\n max_connections = 64;\n};\n", NULL);

	ck_assert_str_eq(cfg->socket, CONF_NO_SOCKET);
	ck_assert_str_eq(cfg->filter.socket, "unix:/var/spool/postfix/smtpreply/filter.sock");
	ck_assert(cfg->filter.socket_mode_set);
	ck_assert_uint_eq(cfg->filter.socket_mode, 0660);
	ck_assert_str_eq(cfg->filter.group, "postfix");
	ck_assert_uint_eq(cfg->filter.max_connections, 64);
	conf_unref(cfg);
	cfg = load_text("user = \"x\";\n", NULL);
	ck_assert_ptr_null(cfg->filter.socket);
	ck_assert_uint_eq(cfg->filter.max_connections, FILTERCONF_MAX_CONNECTIONS);
	conf_unref(cfg);
}
END_TEST

/* Rules keep file order, conditions and the default replies. */
START_TEST(test_rules_loaded)
{
	struct conf *cfg = load_text(
		"rules = (\n"
		" { name = \"a\"; phase = \"connect\"; client = ( \"192.0.2.0/24\", \"2001:db8::/32\" );"
		" action = \"tempfail\"; },\n"
		" { name = \"b\"; phase = \"rcpt\"; rcpt = \"/^<x@/i\"; action = \"reject\"; },\n"
		" { name = \"c\"; phase = \"eom\"; action = \"quarantine\"; reply = \"held ${queue_id}\"; },\n"
		" { name = \"d\"; phase = \"eom\"; action = \"discard\"; }\n);\n", NULL);
	const struct rule *r;
	const struct reply *rp;
	struct rules_session s;
	struct template_values v = { { [TEMPLATE_QUEUE_ID] = "Q1\r\n%" } };
	char buf[64];

	ck_assert_uint_eq(cfg->rules.nrules, 4);
	ck_assert_str_eq(cfg->rules.rules[0]->name, "a");
	ck_assert_uint_eq(cfg->rules.rules[0]->nclients, 2);
	ck_assert_uint_eq(cfg->rules.rules[0]->line, 2);
	rp = conf_rule_reply(cfg, cfg->rules.rules[0]);
	/* a reply at connect is sent at MAIL (rule_phase_sr) */
	ck_assert_ptr_eq(rp, cfg->tempfail[SR_PHASE_MAIL]);
	rp = conf_rule_reply(cfg, cfg->rules.rules[1]);
	ck_assert_ptr_eq(rp, cfg->reject[SR_PHASE_RCPT]);
	rp = conf_rule_reply(cfg, cfg->rules.rules[2]);
	ck_assert(rp->is_reason);
	ck_assert_ptr_null(reply_fixed(rp));
	template_expand(&rp->tmpl, &v, buf, sizeof(buf), NULL);
	ck_assert_str_eq(buf, "held Q1???");
	ck_assert_ptr_null(conf_rule_reply(cfg, cfg->rules.rules[3]));

	memset(&s, 0, sizeof(s));
	s.rcpt = "<X@example.org>";
	ck_assert_int_eq(rules_match(&cfg->rules, RULE_PHASE_RCPT, &s, NULL, NULL, &r), 1);
	ck_assert_str_eq(r->name, "b");
	conf_unref(cfg);
}
END_TEST

/* ---- run time: templates normalized again after expansion ------------------ */

START_TEST(test_render)
{
	struct conf *cfg = load_text(
		"rules = ( { name = \"r\"; phase = \"mail\"; sender = \"//\"; action = \"reject\";\n"
		"  reply = \"550 4.1.1 Sender ${sender} refused by ${rule}\"; } );\n", NULL);
	const struct rule *r = rule_set_find(&cfg->rules, "r");
	struct template_values v = { { [TEMPLATE_SENDER] = "<a@b>\r\n250 2.0.0 OK 100%",
				       [TEMPLATE_RULE] = "r" } };
	struct sr_normalized out;
	char *big;

	/* At load: variables left as written, class fixed, phase fitted. */
	ck_assert_str_eq(r->reply->norm.wire, "550 5.1.0 Sender ${sender} refused by ${rule}");
	ck_assert_ptr_nonnull(find_change(&r->reply->norm, SR_D_ENHANCED_CLASS_MISMATCH));
	ck_assert_ptr_null(reply_fixed(r->reply));

	ck_assert_int_eq(reply_render(cfg, r->reply, &v, &out), 0);
	ck_assert_str_eq(out.wire, "550 5.1.0 Sender <a@b>??250 2.0.0 OK 100? refused by r");
	ck_assert_uint_eq(out.nlines, 1);
	sr_normalized_release(&out);

	/* A 10 kB value: cut at 256 bytes, one line, nothing injected. */
	big = malloc(10 * 1024 + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', 10 * 1024);
	big[10 * 1024] = '\0';
	v.v[TEMPLATE_SENDER] = big;
	ck_assert_int_eq(reply_render(cfg, r->reply, &v, &out), 0);
	ck_assert_uint_eq(out.nlines, 1);
	ck_assert_ptr_nonnull(strstr(out.wire, "xxx... refused by r"));
	ck_assert_uint_lt(out.wire_len, 512);
	sr_normalized_release(&out);
	free(big);

	/* NULL values expand to nothing. */
	ck_assert_int_eq(reply_render(cfg, r->reply, NULL, &out), 0);
	ck_assert_str_eq(out.wire, "550 5.1.0 Sender  refused by");
	sr_normalized_release(&out);
	conf_unref(cfg);
}
END_TEST

/* A value that looks like an enhanced code cannot change the class. */
START_TEST(test_render_enhanced_value)
{
	struct conf *cfg = load_text(
		"rules = ( { name = \"r\"; phase = \"rcpt\"; action = \"tempfail\";\n"
		"  reply = \"451 ${rcpt} later\"; } );\n", NULL);
	const struct rule *r = rule_set_find(&cfg->rules, "r");
	struct template_values v = { { [TEMPLATE_RCPT] = "5.7.1" } };
	struct sr_normalized out;

	ck_assert_int_eq(reply_render(cfg, r->reply, &v, &out), 0);
	ck_assert_int_eq(out.code[0], '4');
	ck_assert_int_eq(out.enhanced[0], '4');
	sr_normalized_release(&out);
	conf_unref(cfg);
}
END_TEST

START_TEST(test_refcount)
{
	struct conf *cfg = load_text("", NULL);

	ck_assert_ptr_eq(conf_ref(cfg), cfg);
	ck_assert_uint_eq(atomic_load(&cfg->refs), 2);
	conf_unref(cfg);
	ck_assert_uint_eq(atomic_load(&cfg->refs), 1);
	conf_unref(cfg);
	conf_unref(NULL);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("errors");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_error, 0, (int)NROWS(erows));
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_not_regular_or_too_big);
	tcase_add_loop_test(tc, test_include, 0, (int)NROWS(include_rows));
	tcase_add_test(tc, test_duplicate_among_many);
	suite_add_tcase(s, tc);
	tc = tcase_create("scale");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_load_is_linear);
	suite_add_tcase(s, tc);
	tc = tcase_create("load");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_sample);
	tcase_add_loop_test(tc, test_normalized, 0, (int)NROWS(nrows));
	tcase_add_test(tc, test_policy_replies);
	tcase_add_test(tc, test_settings);
	tcase_add_test(tc, test_strict_missing_code);
	tcase_add_test(tc, test_filter_settings);
	tcase_add_test(tc, test_rules_loaded);
	tcase_add_test(tc, test_refcount);
	suite_add_tcase(s, tc);
	tc = tcase_create("render");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_render);
	tcase_add_test(tc, test_render_enhanced_value);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return tu_run(config_suite());
}
