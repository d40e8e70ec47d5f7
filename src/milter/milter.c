/*
 * SPDX-License-Identifier: ISC
 * milter.c - libmilter callbacks, negotiation and configuration sharing.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmilter/mfapi.h>

#include "log.h"
#include "milter.h"
#include "mta_libmilter.h"
#include "session.h"
#include "symlist.h"

/*
 * libmilter gives callbacks no user pointer: the shared state is set once
 * by milter_setup(), before smfi_main() starts any thread, and only read
 * afterwards. What it points to is guarded by its own lock or atomics.
 */
static struct milter_shared *shared;

struct conf *milter_conf_get(struct milter_shared *sh)
{
	struct conf *cfg;

	pthread_mutex_lock(&sh->lock);
	cfg = conf_ref(sh->cfg);
	pthread_mutex_unlock(&sh->lock);
	return cfg;
}

void milter_conf_swap(struct milter_shared *sh, struct conf *cfg)
{
	struct conf *old;

	pthread_mutex_lock(&sh->lock);
	old = sh->cfg;
	sh->cfg = cfg;
	pthread_mutex_unlock(&sh->lock);
	atomic_store(&sh->symlist_logged, 0u);	/* new children, new rules */
	conf_unref(old);	/* freed when the last session on it ends */
}

/* Does any rule or reply of CFG use variable VAR? */
static bool uses_var(const struct conf *cfg, enum template_var var)
{
	size_t i;
	int ph;

	for (i = 0; i < cfg->rules.nrules; i++) {
		const struct reply *rp = cfg->rules.rules[i]->reply;

		if (rp != NULL && (rp->tmpl.vars & (1u << var)) != 0)
			return true;
	}
	for (ph = 0; ph < SR_PHASE__COUNT; ph++) {
		if (cfg->reject[ph] != NULL &&
		    (cfg->reject[ph]->tmpl.vars & (1u << var)) != 0)
			return true;
		if (cfg->tempfail[ph] != NULL &&
		    (cfg->tempfail[ph]->tmpl.vars & (1u << var)) != 0)
			return true;
	}
	return false;
}

unsigned long milter_protocol_flags(const struct conf *cfg,
				    unsigned long offered)
{
	unsigned phases = rules_phases_needed(&cfg->rules);
	unsigned long want = SMFIP_NOBODY | SMFIP_NOEOH | SMFIP_NOUNKNOWN;
	bool helo = (phases & (1u << RULE_PHASE_HELO)) != 0 ||
	    uses_var(cfg, TEMPLATE_HELO);
	bool rcpt = (phases & (1u << RULE_PHASE_RCPT)) != 0 ||
	    cfg->audit_mta_rejects || uses_var(cfg, TEMPLATE_RCPT);
	size_t i;

	for (i = 0; i < cfg->rules.nrules && !helo; i++)
		helo = cfg->rules.rules[i]->helo.code != NULL;
	if (!helo)
		want |= SMFIP_NOHELO;
	if (!rcpt)
		want |= SMFIP_NORCPT;
	if ((phases & (1u << RULE_PHASE_HEADER)) == 0)
		want |= SMFIP_NOHDRS;
	if (cfg->audit_mta_rejects)
		want |= SMFIP_RCPT_REJ;
	/* Connect, MAIL (a new message), DATA (see milter.h) and the end of
	 * the message are always taken. */
	return want & offered;
}

static sfsistat status(enum session_status st)
{
	switch (st) {
	case SESSION_ACCEPT:
		return SMFIS_ACCEPT;
	case SESSION_REJECT:
		return SMFIS_REJECT;
	case SESSION_TEMPFAIL:
		return SMFIS_TEMPFAIL;
	case SESSION_DISCARD:
		return SMFIS_DISCARD;
	default:
		return SMFIS_CONTINUE;
	}
}

static struct session *get_session(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

/* No session (memory ran out when it was made): the on_error verdict. */
static sfsistat no_session(SMFICTX *ctx, enum sr_phase phase)
{
	struct mta m = { &mta_libmilter_ops, ctx };
	struct conf *cfg = milter_conf_get(shared);
	enum session_status st = session_fail(cfg, &shared->counters, &m,
	    phase, "no session state (out of memory)");

	conf_unref(cfg);
	return status(st);
}

/* Take a session slot; false when the limit is reached (logged). */
static bool take_slot(const struct conf *cfg)
{
	unsigned limit = cfg->max_sessions, cap;
	unsigned n;
	struct timespec now;
	long long last;

	if (atomic_load(&shared->draining))
		return false;		/* stopping: the MTA goes elsewhere */
	n = atomic_fetch_add(&shared->active, 1);
	cap = atomic_load(&shared->fd_capacity);
	if (cap != 0 && cap < limit)
		limit = cap;
	if (n < limit)
		return true;
	atomic_fetch_sub(&shared->active, 1);
	atomic_fetch_add(&shared->refused, 1);
	clock_gettime(CLOCK_MONOTONIC, &now);
	last = atomic_load(&shared->refusal_logged);
	if (now.tv_sec > last && atomic_compare_exchange_strong(
	    &shared->refusal_logged, &last, (long long)now.tv_sec))
		log_msg(LOG_WARNING, "session limit %u reached: new MTA "
		    "connections are closed at once, the MTA applies its "
		    "default action (%lu refused so far)", limit,
		    (unsigned long)atomic_load(&shared->refused));
	return false;
}

static void release_slot(void)
{
	atomic_fetch_sub(&shared->active, 1);
}

/* A new session with a slot taken; NULL when none could be made. */
static struct session *make_session(SMFICTX *ctx, struct conf *cfg)
{
	struct session *s = session_new(cfg, &shared->counters);

	if (s == NULL) {
		release_slot();
		return NULL;
	}
	if (smfi_setpriv(ctx, s) != MI_SUCCESS) {
		session_free(s);
		release_slot();
		s = NULL;
	}
	return s;
}

/*
 * Proxy children (proxy.h): ask the MTA for the actions they negotiated
 * and for every step one of them wants, on top of what the rules need.
 */
static void proxy_negotiation(const struct session *s, unsigned long offered,
			      unsigned long offered_steps, unsigned long *pf0,
			      unsigned long *pf1)
{
	static const struct {
		enum mclient_step step;
		unsigned long no;
	} steps[] = {
		{ MCLIENT_STEP_HELO, SMFIP_NOHELO },
		{ MCLIENT_STEP_RCPT, SMFIP_NORCPT },
		{ MCLIENT_STEP_HEADER, SMFIP_NOHDRS },
		{ MCLIENT_STEP_EOH, SMFIP_NOEOH },
		{ MCLIENT_STEP_BODY, SMFIP_NOBODY },
		{ MCLIENT_STEP_UNKNOWN, SMFIP_NOUNKNOWN },
	};
	size_t i;

	if (session_config(s)->proxy.n == 0)
		return;
	*pf0 |= offered & session_proxy_actions(s);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (session_proxy_wants(s, steps[i].step))
			*pf1 &= ~steps[i].no;
	/* A child that wants the recipients the MTA rejected gets them. */
	if (session_proxy_wants_rejected(s))
		*pf1 |= offered_steps & SMFIP_RCPT_REJ;
}

static void add_child_symlist(void *ctx, int stage, const char *names)
{
	symlist_add_child(ctx, stage, names);
}

/* Log once (until the next reload) what BIT of symlist_logged stands for. */
static bool first_time(unsigned bit)
{
	return (atomic_fetch_or(&shared->symlist_logged, 1u << bit) &
	    (1u << bit)) == 0;
}

/*
 * Proxy children that named macro lists (symlist.h): ask the MTA, which
 * offered SMFIF_SETSYMLIST, for the union at each of their stages. A list
 * asked for replaces the MTA's own for that stage; a stage over the
 * bounds is asked for nothing (logged once). libmilter refusing a list is
 * logged and the negotiation goes on.
 */
static void request_macros(SMFICTX *ctx, const struct session *s,
			   unsigned long *pf0)
{
	struct symlist *sl = malloc(sizeof(*sl));
	char list[2 * SYMLIST_BYTES_MAX], name[2 * SYMLIST_NAME_MAX];
	bool ok;
	int i;

	if (sl == NULL) {
		log_msg(LOG_ERR, "negotiation: out of memory: no macros asked "
		    "for the proxy children");
		return;
	}
	symlist_init(sl);
	session_proxy_symlists(s, add_child_symlist, sl);
	symlist_add_rules(sl, &session_config(s)->rules);
	for (i = 0; i < SYMLIST_STAGES; i++) {
		const struct symlist_stage *st = &sl->st[i];
		enum symlist_status status = symlist_status(sl, i);

		if (status != SYMLIST_NONE && st->invalid > 0 &&
		    first_time(8u + (unsigned)i)) {
			log_quote(name, sizeof(name), st->first_invalid,
			    strlen(st->first_invalid));
			log_msg(LOG_WARNING, "negotiation: %u macro name(s) at %s "
			    "left out, no MTA can have them (first: \"%s\")",
			    st->invalid, symlist_stage_name(i), name);
		}
		if (status == SYMLIST_OVERFLOW && first_time((unsigned)i))
			log_msg(LOG_WARNING, "negotiation: the macros the proxy "
			    "children, the rules and the MTA's defaults need at "
			    "%s are more than %d names or %d bytes: none asked "
			    "for at that stage, the MTA sends its own list "
			    "(logged once until a reload)",
			    symlist_stage_name(i), SYMLIST_NAMES_MAX,
			    SYMLIST_BYTES_MAX);
		if (status != SYMLIST_REQUEST)
			continue;
		*pf0 |= SMFIF_SETSYMLIST;
		ok = mta_libmilter_setsymlist(ctx, i, st->list) == 0;
		if (ok && !log_enabled(LOG_DEBUG))
			continue;
		log_quote(list, sizeof(list), st->list, st->len);
		if (!ok)
			log_msg(LOG_WARNING, "negotiation: libmilter refused "
			    "the macro list for %s: \"%s\"",
			    symlist_stage_name(i), list);
		else
			log_msg(LOG_DEBUG, "negotiation: asked the MTA for the "
			    "macros at %s: \"%s\"", symlist_stage_name(i), list);
	}
	free(sl);
}

/* A session for a connection that has none yet, within the limit. */
static struct session *new_session(SMFICTX *ctx, bool *refused)
{
	struct conf *cfg = milter_conf_get(shared);

	*refused = false;
	if (!take_slot(cfg)) {
		conf_unref(cfg);
		*refused = true;
		return NULL;
	}
	return make_session(ctx, cfg);
}

bool milter_steps_cover(const struct conf *cfg, unsigned long offered,
			unsigned long negotiated)
{
	unsigned long want = milter_protocol_flags(cfg, offered);
	unsigned long no = SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL |
	    SMFIP_NORCPT | SMFIP_NOBODY | SMFIP_NOHDRS | SMFIP_NOEOH |
	    SMFIP_NOUNKNOWN | SMFIP_NODATA;

	/* Proxy children hold connections made for their configuration. */
	if (cfg->proxy.n > 0)
		return false;
	/* Every step the new one needs is sent: it skips what we skipped. */
	if ((negotiated & no & ~want) != 0)
		return false;
	/* The MTA's own rejects are told, or not, as before. */
	return (negotiated & SMFIP_RCPT_REJ) == (want & SMFIP_RCPT_REJ);
}

/*
 * At MAIL, move the session onto the current configuration when it has
 * changed and needs nothing the MTA does not send.
 */
static void refresh_config(struct session *s)
{
	struct conf *cur = milter_conf_get(shared);
	unsigned long offered, steps = session_steps(s, &offered);

	if (cur != session_config(s) && session_config(s)->proxy.n == 0 &&
	    milter_steps_cover(cur, offered, steps))
		session_adopt_config(s, cur);
	else
		conf_unref(cur);
}

static sfsistat cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
			     unsigned long f2, unsigned long f3,
			     unsigned long *pf0, unsigned long *pf1,
			     unsigned long *pf2, unsigned long *pf3)
{
	struct session *s = get_session(ctx);
	bool refused = false;

	(void)f2;
	(void)f3;
	if (s == NULL)
		s = new_session(ctx, &refused);
	if (refused)
		return SMFIS_REJECT;	/* libmilter closes the connection */
	*pf0 = f0 & SMFIF_QUARANTINE;
	*pf1 = s != NULL ? milter_protocol_flags(session_config(s), f1) :
	    f1 & (SMFIP_NOBODY | SMFIP_NOEOH | SMFIP_NOUNKNOWN);
	if (s != NULL)
		proxy_negotiation(s, f0, f1, pf0, pf1);
	if (s != NULL && (f0 & SMFIF_SETSYMLIST) != 0 &&
	    session_config(s)->proxy.n > 0)
		request_macros(ctx, s, pf0);
	*pf2 = 0;
	*pf3 = 0;
	if (s != NULL)
		session_set_steps(s, f1, *pf1);
	log_msg(LOG_DEBUG, "negotiation: MTA offers actions %#lx, steps %#lx; "
	    "asked for actions %#lx, steps %#lx", f0, f1, *pf0, *pf1);
	return SMFIS_CONTINUE;
}

static sfsistat cb_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *sa)
{
	struct mta m = { &mta_libmilter_ops, ctx };
	struct session *s = get_session(ctx);
	char addr[INET6_ADDRSTRLEN];
	const char *a = NULL;
	bool refused;

	if (s == NULL && (s = new_session(ctx, &refused)) == NULL)
		return no_session(ctx, SR_PHASE_CONNECT);
	if (sa != NULL && sa->sa_family == AF_INET &&
	    inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)sa)->sin_addr,
	    addr, sizeof(addr)) != NULL) {
		a = addr;
		session_set_client_socket(s, SMFIA_INET, ntohs(((struct
		    sockaddr_in *)(void *)sa)->sin_port));
	} else if (sa != NULL && sa->sa_family == AF_INET6 &&
	    inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)sa)->sin6_addr,
	    addr, sizeof(addr)) != NULL) {
		a = addr;
		session_set_client_socket(s, SMFIA_INET6, ntohs(((struct
		    sockaddr_in6 *)(void *)sa)->sin6_port));
	}
	return status(session_connect(s, &m, hostname, a));
}

static sfsistat cb_helo(SMFICTX *ctx, char *helo)
{
	struct mta m = { &mta_libmilter_ops, ctx };
	struct session *s = get_session(ctx);

	if (s == NULL)
		return no_session(ctx, SR_PHASE_HELO);
	return status(session_helo(s, &m, helo));
}

static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct mta m = { &mta_libmilter_ops, ctx };
	struct session *s = get_session(ctx);

	if (s == NULL)
		return no_session(ctx, SR_PHASE_MAIL);
	session_set_esmtp_args(s, (const char *const *)argv);
	refresh_config(s);
	return status(session_mail(s, &m, argv != NULL ? argv[0] : NULL));
}

static sfsistat cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct mta m = { &mta_libmilter_ops, ctx };
	struct session *s = get_session(ctx);

	if (s == NULL)
		return no_session(ctx, SR_PHASE_RCPT);
	session_set_esmtp_args(s, (const char *const *)argv);
	return status(session_rcpt(s, &m, argv != NULL ? argv[0] : NULL));
}

static sfsistat cb_data(SMFICTX *ctx)
{
	struct mta m = { &mta_libmilter_ops, ctx };
	struct session *s = get_session(ctx);

	if (s == NULL)
		return no_session(ctx, SR_PHASE_DATA);
	return status(session_data(s, &m));
}

static sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct mta m = { &mta_libmilter_ops, ctx };
	struct session *s = get_session(ctx);

	if (s == NULL)
		return no_session(ctx, SR_PHASE_EOM);
	return status(session_header(s, &m, name, value));
}

static sfsistat cb_eom(SMFICTX *ctx)
{
	struct mta m = { &mta_libmilter_ops, ctx };
	struct session *s = get_session(ctx);

	if (s == NULL)
		return no_session(ctx, SR_PHASE_EOM);
	return status(session_eom(s, &m));
}

static sfsistat cb_eoh(SMFICTX *ctx)
{
	struct mta m = { &mta_libmilter_ops, ctx };
	struct session *s = get_session(ctx);

	if (s == NULL)
		return no_session(ctx, SR_PHASE_EOM);
	return status(session_eoh(s, &m));
}

static sfsistat cb_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
	struct mta m = { &mta_libmilter_ops, ctx };
	struct session *s = get_session(ctx);

	if (s == NULL)
		return no_session(ctx, SR_PHASE_EOM);
	return status(session_body(s, &m, chunk, len));
}

static sfsistat cb_unknown(SMFICTX *ctx, const char *line)
{
	struct mta m = { &mta_libmilter_ops, ctx };
	struct session *s = get_session(ctx);

	if (s == NULL)
		return no_session(ctx, SR_PHASE_OTHER);
	return status(session_unknown(s, &m, line));
}

static sfsistat cb_abort(SMFICTX *ctx)
{
	session_abort(get_session(ctx));
	return SMFIS_CONTINUE;
}

static sfsistat cb_close(SMFICTX *ctx)
{
	struct session *s = get_session(ctx);

	if (s != NULL) {
		(void)smfi_setpriv(ctx, NULL);
		session_free(s);
		release_slot();
	}
	return SMFIS_CONTINUE;
}

int milter_shared_init(struct milter_shared *sh, struct conf *cfg)
{
	if (pthread_mutex_init(&sh->lock, NULL) != 0) {
		log_msg(LOG_ERR, "cannot initialize a mutex");
		return -1;
	}
	sh->cfg = cfg;
	counters_init(&sh->counters);
	atomic_init(&sh->active, 0);
	atomic_init(&sh->fd_capacity, 0);
	atomic_init(&sh->refused, 0);
	atomic_init(&sh->refusal_logged, 0);
	atomic_init(&sh->draining, false);
	atomic_init(&sh->symlist_logged, 0u);
	return 0;
}

int milter_setup(struct milter_shared *sh, struct conf *cfg,
		 const char *name)
{
	struct smfiDesc desc;	/* smfi_register copies it */

	memset(&desc, 0, sizeof(desc));
	desc.xxfi_name = (char *)name;
	desc.xxfi_version = SMFI_VERSION;
	/* What the rules need (quarantine) and what proxy children may ask
	 * for; each connection asks only for what it uses (cb_negotiate). */
	desc.xxfi_flags = SMFIF_QUARANTINE | SMFIF_ADDHDRS | SMFIF_CHGHDRS |
	    SMFIF_CHGBODY | SMFIF_ADDRCPT | SMFIF_ADDRCPT_PAR | SMFIF_DELRCPT |
	    SMFIF_CHGFROM;
	desc.xxfi_connect = cb_connect;
	desc.xxfi_helo = cb_helo;
	desc.xxfi_envfrom = cb_envfrom;
	desc.xxfi_envrcpt = cb_envrcpt;
	desc.xxfi_header = cb_header;
	desc.xxfi_eom = cb_eom;
	desc.xxfi_abort = cb_abort;
	desc.xxfi_eoh = cb_eoh;
	desc.xxfi_body = cb_body;
	desc.xxfi_unknown = cb_unknown;
	desc.xxfi_close = cb_close;
	desc.xxfi_data = cb_data;
	desc.xxfi_negotiate = cb_negotiate;

	if (milter_shared_init(sh, cfg) != 0)
		return -1;
	shared = sh;
	if (smfi_register(desc) != MI_SUCCESS) {
		log_msg(LOG_ERR, "smfi_register failed");
		return -1;
	}
	return 0;
}

void milter_proxy_log(struct milter_shared *sh)
{
	struct conf *cfg = milter_conf_get(sh);

	proxy_conf_log(&cfg->proxy);
	conf_unref(cfg);
}
