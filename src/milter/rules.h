/*
 * SPDX-License-Identifier: ISC
 * rules.h - the milter's policy rules and the matcher.
 *
 * A rule belongs to one phase (connect, helo, mail, rcpt, data, header,
 * eom), has conditions that must all hold and an action. The rules of a
 * phase are tried in file order and the first one that matches decides,
 * with one exception: a matching "continue" rule only reports itself (the
 * daemon logs it) and the search goes on with the next rule. So
 * "continue" never stops a search and never hides a later rule.
 *
 * The matcher sees the session through a read-only view (struct
 * rules_session) so that tests drive it without an MTA. A value the view
 * does not have (NULL) makes every condition on it fail. Compiled rules
 * are read-only: any number of threads may match at once (PCRE2 match
 * data is allocated per call).
 */
#ifndef SMTPREPLY_MILTER_RULES_H
#define SMTPREPLY_MILTER_RULES_H

#include <stdbool.h>
#include <stddef.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <smtpreply/phase.h>

#include "cidr.h"

enum rule_phase {
	RULE_PHASE_CONNECT,
	RULE_PHASE_HELO,
	RULE_PHASE_MAIL,
	RULE_PHASE_RCPT,
	RULE_PHASE_DATA,
	RULE_PHASE_HEADER,	/* once per header; its replies answer at eom */
	RULE_PHASE_EOM,
	RULE_PHASE__COUNT
};

enum rule_action {
	RULE_ACCEPT,		/* accept the message; no later rule runs */
	RULE_REJECT,		/* 5xx */
	RULE_TEMPFAIL,		/* 4xx */
	RULE_DISCARD,
	RULE_QUARANTINE,	/* hold the message; reason = the reply text */
	RULE_CONTINUE,		/* log only, go on with the next rule */
	RULE_ACTION__COUNT
};

/* The conditions, for rule_cond_available() and messages. */
enum rule_cond {
	RULE_COND_CLIENT,
	RULE_COND_CLIENT_NAME,
	RULE_COND_HELO,
	RULE_COND_SENDER,
	RULE_COND_RCPT,
	RULE_COND_HEADER,
	RULE_COND_MACRO,
	RULE_COND_AUTHENTICATED,
	RULE_COND__COUNT
};

const char *rule_phase_name(enum rule_phase p);
int rule_phase_lookup(const char *name);		/* or -1 */
const char *rule_action_name(enum rule_action a);
int rule_action_lookup(const char *name);		/* or -1 */
const char *rule_cond_name(enum rule_cond c);

/*
 * The engine's phase for replies given at P: the phase whose command the
 * client sees them answer. Header -> eom; connect and helo -> mail (the
 * MTA applies such a reply to the commands that follow, MAIL first).
 */
enum sr_phase rule_phase_sr(enum rule_phase p);

/*
 * Whether the MTA has told the milter what condition C looks at by phase
 * P: helo from helo on, sender from mail on, rcpt at rcpt only, header at
 * header only, authenticated from mail on; client, client_name and macro
 * always.
 */
bool rule_cond_available(enum rule_cond c, enum rule_phase p);

/* A regular expression written "/.../" or "/.../i". */
struct rule_regex {
	char *source;			/* as written, for logs */
	pcre2_code *code;		/* NULL: no condition */
	pcre2_match_context *mctx;	/* match limits */
};

/*
 * Compile SRC into RX (JIT when available). Returns 0, or -1 with ERR set:
 * "regular expression must be written /.../ (optional flag i)",
 * "unknown regular expression flag 'x'", PCRE2's message with its offset
 * ("missing closing parenthesis at offset 3"), "out of memory".
 */
int rule_regex_compile(struct rule_regex *rx, const char *src, char *err,
		       size_t errsize);
void rule_regex_free(struct rule_regex *rx);

struct reply;	/* owned and freed by the configuration */

struct rule {
	char *name;
	enum rule_phase phase;
	enum rule_action action;
	unsigned line;			/* where it was defined, for logs */

	/* Conditions; an absent one holds. */
	struct cidr *clients;		/* nclients == 0: no condition */
	size_t nclients;
	struct rule_regex client_name, helo, sender, rcpt;
	char *header_name;		/* NULL: no header condition */
	struct rule_regex header_value;	/* code NULL: any value */
	char *macro_name;		/* NULL: no macro condition */
	struct rule_regex macro_value;	/* code NULL: any non-empty value */
	int authenticated;		/* -1 no condition, 0 or 1 */

	struct reply *reply;	/* NULL: the default for the action */
};

/* An empty rule (no conditions, action continue) named NAME (copied). */
struct rule *rule_new(const char *name);
/* Free R and what it owns (not R->reply). */
void rule_free(struct rule *r);

/* The session as the matcher sees it; NULL members are unknown. */
typedef const char *(*rules_macro_fn)(void *ctx, const char *name);

struct rule;
/*
 * Rule R could not be evaluated (WHY: "regular expression: match limit
 * exceeded (PCRE2 error -47)", "out of memory"). Return true to count R
 * as not matching and go on with the next rule, false to stop the search.
 */
typedef bool (*rules_error_fn)(void *ctx, const struct rule *r,
			       const char *why);

struct rules_session {
	const char *client_addr;	/* "192.0.2.1", "IPv6:2001:db8::1" */
	const char *client_name;
	const char *helo;
	const char *sender;
	const char *rcpt;		/* the current recipient */
	const char *header_name;	/* the current header */
	const char *header_value;
	rules_macro_fn macro;		/* NULL: no macros known */
	void *macro_ctx;
	const char *queue_id;
	rules_error_fn on_error;	/* NULL: an error stops the search */
	void *error_ctx;
};

struct rule_set {
	struct rule **rules;		/* file order, owned */
	size_t nrules;
	size_t cap;
	/*
	 * Rules by name: open addressing, a power of two slots, at most half
	 * full, so that loading N rules costs O(N), not O(N^2) duplicate
	 * checks. The first rule of a name wins.
	 */
	struct rule **by_name;
	size_t name_slots;
	/* Slots visited while the index was built (growth included): the
	 * work of loading, counted, so that a test can show it linear. */
	size_t name_visits;
	struct rule **by_phase[RULE_PHASE__COUNT];	/* views into rules */
	size_t nby_phase[RULE_PHASE__COUNT];
};

void rule_set_init(struct rule_set *rs);
/* Append R (ownership passes to RS, also on failure). 0 or -1 (memory). */
int rule_set_add(struct rule_set *rs, struct rule *r);
/* Build the per-phase index once every rule is added. 0 or -1 (memory). */
int rule_set_finish(struct rule_set *rs);
void rule_set_free(struct rule_set *rs);

/* The (first) rule named NAME, or NULL. O(1). */
const struct rule *rule_set_find(const struct rule_set *rs, const char *name);

/*
 * Does R match session S? Returns 1 yes, 0 no, -1 on an internal error
 * (memory, a regex hitting its match limit).
 */
int rule_matches(const struct rule *r, const struct rules_session *s);

/* Called for each matching "continue" rule, in order. */
typedef void (*rules_continue_fn)(void *ctx, const struct rule *r);

/*
 * Try the rules of PHASE in order. Returns 1 and sets *MATCHED to the
 * first matching rule whose action is not "continue", 0 when none
 * decides, -1 on an internal error with *MATCHED the rule that failed
 * (NULL when there was no memory to start). Each matching "continue" rule
 * before it is passed to ON_CONTINUE (may be NULL). A rule that cannot be
 * evaluated (a regular expression over its match limit) is passed to
 * S->on_error, which decides whether the search goes on: an error never
 * skips the later rules silently.
 */
int rules_match(const struct rule_set *rs, enum rule_phase phase,
		const struct rules_session *s, rules_continue_fn on_continue,
		void *ctx, const struct rule **matched);

/* Bit (1u << phase) for every phase that has at least one rule. */
unsigned rules_phases_needed(const struct rule_set *rs);

/*
 * The macro names the rules of PHASE look at ("{auth_authen}" for
 * "authenticated"), without duplicates: up to MAX of them into NAMES;
 * returns how many there are.
 */
size_t rules_macros_needed(const struct rule_set *rs, enum rule_phase phase,
			   const char **names, size_t max);

#endif /* SMTPREPLY_MILTER_RULES_H */
