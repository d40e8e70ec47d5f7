/*
 * SPDX-License-Identifier: ISC
 * mclient.c - the MTA side of the milter protocol: packets, negotiation,
 * per-child state. See mclient.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mclient.h"

/* ---- buffer ----------------------------------------------------------- */

void mclient_buf_init(struct mclient_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void mclient_buf_reset(struct mclient_buf *b)
{
	b->len = 0;
	b->failed = false;
}

void mclient_buf_free(struct mclient_buf *b)
{
	free(b->p);
	mclient_buf_init(b);
}

static int buf_reserve(struct mclient_buf *b, size_t more)
{
	size_t cap;
	unsigned char *p;

	if (b->failed)
		return -1;
	if (more <= b->cap - b->len)
		return 0;
	cap = b->cap > 0 ? b->cap : 256;
	while (cap - b->len < more) {
		if (cap > SIZE_MAX / 2) {
			b->failed = true;
			return -1;
		}
		cap *= 2;
	}
	if ((p = realloc(b->p, cap)) == NULL) {
		b->failed = true;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

static void put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/*
 * A packet is assembled from parts: a part is a byte range, or a string
 * sent with its NUL (len == SIZE_MAX marks "string").
 */
struct part {
	const void *p;
	size_t len;
};

#define STR(s) { (s) != NULL ? (s) : "", SIZE_MAX }

static int put_packet(struct mclient_buf *b, char cmd, const struct part *parts,
		      size_t nparts)
{
	size_t total = 1, i, o;

	for (i = 0; i < nparts; i++) {
		size_t n = parts[i].len == SIZE_MAX ?
		    strlen(parts[i].p) + 1 : parts[i].len;

		if (n > MCLIENT_PACKET_MAX - total)
			return -1;
		total += n;
	}
	if (buf_reserve(b, 4 + total) != 0)
		return -1;
	o = b->len;
	put_u32(b->p + o, (uint32_t)total);
	b->p[o + 4] = (unsigned char)cmd;
	o += 5;
	for (i = 0; i < nparts; i++) {
		size_t n = parts[i].len == SIZE_MAX ?
		    strlen(parts[i].p) + 1 : parts[i].len;

		if (n > 0)
			memcpy(b->p + o, parts[i].p, n);
		o += n;
	}
	b->len = o;
	return 0;
}

/* ---- steps ------------------------------------------------------------ */

static const char *const step_names[MCLIENT_STEP__COUNT] = {
	"connect", "helo", "mail", "rcpt", "data", "unknown", "header",
	"eoh", "body", "eom"
};

const char *mclient_step_name(enum mclient_step st)
{
	return (unsigned)st < MCLIENT_STEP__COUNT ? step_names[st] : "?";
}

int mclient_step_macro_index(enum mclient_step st)
{
	switch (st) {
	case MCLIENT_STEP_CONNECT: return 0;	/* SMFIM_CONNECT */
	case MCLIENT_STEP_HELO: return 1;	/* SMFIM_HELO */
	case MCLIENT_STEP_MAIL: return 2;	/* SMFIM_ENVFROM */
	case MCLIENT_STEP_RCPT: return 3;	/* SMFIM_ENVRCPT */
	case MCLIENT_STEP_DATA: return 4;	/* SMFIM_DATA */
	case MCLIENT_STEP_EOM: return 5;	/* SMFIM_EOM */
	case MCLIENT_STEP_EOH: return 6;	/* SMFIM_EOH */
	default: return -1;
	}
}

/* ---- encoder ---------------------------------------------------------- */

int mclient_put_optneg(struct mclient_buf *b, uint32_t version,
		       uint32_t actions, uint32_t protocol)
{
	unsigned char v[12];
	struct part p[1] = { { v, sizeof(v) } };

	put_u32(v, version);
	put_u32(v + 4, actions);
	put_u32(v + 8, protocol);
	return put_packet(b, SMFIC_OPTNEG, p, 1);
}

int mclient_put_macros(struct mclient_buf *b, char cmd,
		       const char *const *names, const char *const *values,
		       size_t n)
{
	struct part stack[1 + 2 * 16], *parts = stack;
	size_t i, k = 0;
	char c = cmd;
	int rc;

	if (n > 16 && (parts = calloc(1 + 2 * n, sizeof(*parts))) == NULL) {
		b->failed = true;
		return -1;
	}
	parts[k].p = &c;
	parts[k++].len = 1;
	for (i = 0; i < n; i++) {
		if (names[i] == NULL || values[i] == NULL)
			continue;
		parts[k].p = names[i];
		parts[k++].len = SIZE_MAX;
		parts[k].p = values[i];
		parts[k++].len = SIZE_MAX;
	}
	rc = put_packet(b, SMFIC_MACRO, parts, k);
	if (parts != stack)
		free(parts);
	return rc;
}

int mclient_put_connect(struct mclient_buf *b, const char *hostname,
			char family, uint16_t port, const char *addr)
{
	unsigned char pb[2] = { (unsigned char)(port >> 8),
	    (unsigned char)port };
	struct part p[4] = { STR(hostname), { &family, 1 }, { pb, 2 },
	    STR(addr) };

	if (family == SMFIA_UNKNOWN)
		return put_packet(b, SMFIC_CONNECT, p, 2);
	return put_packet(b, SMFIC_CONNECT, p, 4);
}

int mclient_put_helo(struct mclient_buf *b, const char *helo)
{
	struct part p[1] = { STR(helo) };

	return put_packet(b, SMFIC_HELO, p, 1);
}

static int put_argv(struct mclient_buf *b, char cmd, const char *const *argv,
		    size_t argc)
{
	struct part stack[16], *parts = stack;
	size_t i;
	int rc;

	if (argc == 0) {
		struct part one[1] = { STR("") };

		return put_packet(b, cmd, one, 1);
	}
	if (argc > 16 && (parts = calloc(argc, sizeof(*parts))) == NULL) {
		b->failed = true;
		return -1;
	}
	for (i = 0; i < argc; i++) {
		parts[i].p = argv[i] != NULL ? argv[i] : "";
		parts[i].len = SIZE_MAX;
	}
	rc = put_packet(b, cmd, parts, argc);
	if (parts != stack)
		free(parts);
	return rc;
}

int mclient_put_mail(struct mclient_buf *b, const char *const *argv,
		     size_t argc)
{
	return put_argv(b, SMFIC_MAIL, argv, argc);
}

int mclient_put_rcpt(struct mclient_buf *b, const char *const *argv,
		     size_t argc)
{
	return put_argv(b, SMFIC_RCPT, argv, argc);
}

int mclient_put_data(struct mclient_buf *b)
{
	return put_packet(b, SMFIC_DATA, NULL, 0);
}

int mclient_put_unknown(struct mclient_buf *b, const char *line)
{
	struct part p[1] = { STR(line) };

	return put_packet(b, SMFIC_UNKNOWN, p, 1);
}

int mclient_put_header(struct mclient_buf *b, const char *name,
		       const char *value, bool leadspc)
{
	struct part p[3] = { STR(name), { " ", 1 }, STR(value) };

	if (!leadspc) {
		p[1] = p[2];
		return put_packet(b, SMFIC_HEADER, p, 2);
	}
	return put_packet(b, SMFIC_HEADER, p, 3);
}

int mclient_put_eoh(struct mclient_buf *b)
{
	return put_packet(b, SMFIC_EOH, NULL, 0);
}

int mclient_put_body(struct mclient_buf *b, const void *chunk, size_t len)
{
	struct part p[1] = { { chunk, len } };

	if (len > MCLIENT_BODY_CHUNK)
		return -1;
	return put_packet(b, SMFIC_BODY, p, 1);
}

int mclient_put_eom(struct mclient_buf *b)
{
	return put_packet(b, SMFIC_BODYEOB, NULL, 0);
}

int mclient_put_abort(struct mclient_buf *b)
{
	return put_packet(b, SMFIC_ABORT, NULL, 0);
}

int mclient_put_quit(struct mclient_buf *b)
{
	return put_packet(b, SMFIC_QUIT, NULL, 0);
}

/* ---- reader ----------------------------------------------------------- */

void mclient_reader_init(struct mclient_reader *r, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->max = max > 0 && max <= MCLIENT_PACKET_MAX ? max : MCLIENT_PACKET_MAX;
}

void mclient_reader_free(struct mclient_reader *r)
{
	free(r->p);
	r->p = NULL;
	r->len = r->off = r->cap = 0;
}

int mclient_reader_feed(struct mclient_reader *r, const void *data, size_t n)
{
	if (n == 0)
		return 0;
	if (r->off > 0) {		/* drop what was taken */
		memmove(r->p, r->p + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
	}
	if (n > r->cap - r->len) {
		size_t cap = r->cap > 0 ? r->cap : 4096;
		unsigned char *p;

		while (cap - r->len < n) {
			if (cap > SIZE_MAX / 2)
				return -1;
			cap *= 2;
		}
		if ((p = realloc(r->p, cap)) == NULL)
			return -1;
		r->p = p;
		r->cap = cap;
	}
	memcpy(r->p + r->len, data, n);
	r->len += n;
	return 0;
}

enum mclient_take mclient_reader_take(struct mclient_reader *r, char *cmd,
				      const unsigned char **data, size_t *len)
{
	size_t avail = r->len - r->off;
	uint32_t n;

	if (r->broken)
		return MCLIENT_TAKE_BROKEN;
	if (avail < 4)
		return MCLIENT_TAKE_NEED_MORE;
	n = get_u32(r->p + r->off);
	if (n == 0 || n > r->max) {
		r->broken = true;
		return MCLIENT_TAKE_BROKEN;
	}
	if (avail - 4 < n)
		return MCLIENT_TAKE_NEED_MORE;
	*cmd = (char)r->p[r->off + 4];
	*data = r->p + r->off + 5;
	*len = n - 1;
	r->off += 4 + (size_t)n;
	return MCLIENT_TAKE_PACKET;
}

size_t mclient_reader_pending(const struct mclient_reader *r)
{
	return r->len - r->off;
}

/* ---- decoding helpers ------------------------------------------------- */

static void set_err(char *err, size_t size, const char *msg)
{
	if (err != NULL && size > 0)
		snprintf(err, size, "%s", msg);
}

/*
 * Take one NUL-terminated string from DATA[*POS..LEN): its start, and
 * *POS moved past the NUL. NULL when there is no NUL.
 */
static const char *take_str(const unsigned char *data, size_t len,
			    size_t *pos)
{
	const unsigned char *nul;
	const char *s;

	if (*pos >= len)
		return NULL;
	nul = memchr(data + *pos, '\0', len - *pos);
	if (nul == NULL)
		return NULL;
	s = (const char *)data + *pos;
	*pos = (size_t)(nul - data) + 1;
	return s;
}

/* ---- negotiation ------------------------------------------------------ */

int mclient_decode_optneg(const unsigned char *data, size_t len,
			  uint32_t offered_actions,
			  uint32_t offered_protocol, struct mclient_neg *out,
			  char *err, size_t errsize)
{
	size_t pos = 12;

	memset(out, 0, sizeof(*out));
	if (len < 12) {
		set_err(err, errsize, "negotiation reply shorter than 12 bytes");
		return -1;
	}
	out->version = get_u32(data);
	out->actions = get_u32(data + 4);
	out->protocol = get_u32(data + 8);
	if (out->version < 2 || out->version > SMFI_PROT_VERSION) {
		char m[80];

		snprintf(m, sizeof(m), "unsupported protocol version %u",
		    (unsigned)out->version);
		set_err(err, errsize, m);
		return -1;
	}
	/* Taken as given: protocol 0 is "every step, a reply to each",
	 * actions 0 "no modification". */
	if ((out->actions & ~offered_actions) != 0) {
		char m[120];

		snprintf(m, sizeof(m), "asks for actions 0x%x not offered (0x%x)",
		    (unsigned)out->actions, (unsigned)offered_actions);
		set_err(err, errsize, m);
		return -1;
	}
	/* Bits above those known are libmilter-internal (MDS sizes, test):
	 * ignored as Postfix does; any other unknown step is an error. */
	out->protocol &= ~(uint32_t)(SMFIP_MDS_256K | SMFIP_MDS_1M | 0x80000000u);
	if ((out->protocol & ~offered_protocol) != 0) {
		char m[120];

		snprintf(m, sizeof(m), "asks for protocol steps 0x%x not offered "
		    "(0x%x)", (unsigned)out->protocol, (unsigned)offered_protocol);
		set_err(err, errsize, m);
		return -1;
	}
	/* SMFIR_SETSYMLIST: (uint32 list, names NUL-ended) repeated. */
	while (pos < len) {
		uint32_t which;
		const char *names;
		size_t n;

		if (len - pos < 4) {
			set_err(err, errsize, "truncated macro list");
			return -1;
		}
		which = get_u32(data + pos);
		pos += 4;
		if ((names = take_str(data, len, &pos)) == NULL) {
			set_err(err, errsize, "macro list without NUL");
			return -1;
		}
		if (which >= MCLIENT_MACRO_LISTS) {
			set_err(err, errsize, "macro list for an unknown step");
			return -1;
		}
		if ((out->actions & SMFIF_SETSYMLIST) == 0) {
			set_err(err, errsize, "macro list without SMFIF_SETSYMLIST");
			return -1;
		}
		if (out->has_symlist[which]) {
			set_err(err, errsize, "macro list given twice for a step");
			return -1;
		}
		n = strlen(names);
		if (n >= sizeof(out->symlist[which])) {
			set_err(err, errsize, "macro list longer than 511 bytes");
			return -1;
		}
		memcpy(out->symlist[which], names, n + 1);
		out->has_symlist[which] = true;
	}
	return 0;
}

/* ---- replies ---------------------------------------------------------- */

static const char *const reply_names[MCLIENT_R__COUNT] = {
	"continue", "accept", "reject", "tempfail", "discard", "replycode",
	"skip", "progress", "shutdown", "conn_fail", "quarantine",
	"addheader", "insheader", "chgheader", "addrcpt", "addrcpt_par",
	"delrcpt", "chgfrom", "replbody"
};

const char *mclient_reply_name(enum mclient_reply_kind k)
{
	return (unsigned)k < MCLIENT_R__COUNT ? reply_names[k] : "?";
}

bool mclient_reply_is_modification(enum mclient_reply_kind k)
{
	return k >= MCLIENT_R_QUARANTINE && k <= MCLIENT_R_REPLBODY;
}

/* The header name must be non-empty and printable ASCII without ':'. */
static bool header_name_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    *s == ':')
			return false;
	return true;
}

int mclient_decode_reply(char cmd, const unsigned char *data, size_t len,
			 struct mclient_reply *out, char *err,
			 size_t errsize)
{
	size_t pos = 0;

	memset(out, 0, sizeof(*out));
	switch (cmd) {
	case SMFIR_CONTINUE: out->kind = MCLIENT_R_CONTINUE; goto empty;
	case SMFIR_ACCEPT: out->kind = MCLIENT_R_ACCEPT; goto empty;
	case SMFIR_REJECT: out->kind = MCLIENT_R_REJECT; goto empty;
	case SMFIR_TEMPFAIL: out->kind = MCLIENT_R_TEMPFAIL; goto empty;
	case SMFIR_DISCARD: out->kind = MCLIENT_R_DISCARD; goto empty;
	case SMFIR_SKIP: out->kind = MCLIENT_R_SKIP; goto empty;
	case SMFIR_PROGRESS: out->kind = MCLIENT_R_PROGRESS; goto empty;
	case SMFIR_SHUTDOWN: out->kind = MCLIENT_R_SHUTDOWN; goto empty;
	case SMFIR_CONN_FAIL: out->kind = MCLIENT_R_CONN_FAIL; goto empty;
	case SMFIR_REPLYCODE:
		out->kind = MCLIENT_R_REPLYCODE;
		if ((out->text = take_str(data, len, &pos)) == NULL)
			goto nonul;
		/* Like every MTA: the reply must start with a 4xx or 5xx
		 * code; what follows is judged by the engine. */
		if ((out->text[0] != '4' && out->text[0] != '5') ||
		    strlen(out->text) < 3) {
			set_err(err, errsize, "reply code is not 4xx or 5xx");
			return -1;
		}
		goto end;
	case SMFIR_QUARANTINE:
		out->kind = MCLIENT_R_QUARANTINE;
		if ((out->text = take_str(data, len, &pos)) == NULL)
			goto nonul;
		goto end;
	case SMFIR_ADDRCPT:
	case SMFIR_DELRCPT:
		out->kind = cmd == SMFIR_ADDRCPT ? MCLIENT_R_ADDRCPT :
		    MCLIENT_R_DELRCPT;
		if ((out->text = take_str(data, len, &pos)) == NULL)
			goto nonul;
		if (out->text[0] == '\0') {
			set_err(err, errsize, "empty recipient");
			return -1;
		}
		goto end;
	case SMFIR_ADDRCPT_PAR:
	case SMFIR_CHGFROM:
		out->kind = cmd == SMFIR_CHGFROM ? MCLIENT_R_CHGFROM :
		    MCLIENT_R_ADDRCPT_PAR;
		if ((out->text = take_str(data, len, &pos)) == NULL)
			goto nonul;
		if (out->text[0] == '\0') {
			set_err(err, errsize, "empty address");
			return -1;
		}
		if (pos < len && (out->args = take_str(data, len, &pos)) == NULL)
			goto nonul;
		goto end;
	case SMFIR_ADDHEADER:
		out->kind = MCLIENT_R_ADDHEADER;
		goto header;
	case SMFIR_INSHEADER:
	case SMFIR_CHGHEADER:
		out->kind = cmd == SMFIR_INSHEADER ? MCLIENT_R_INSHEADER :
		    MCLIENT_R_CHGHEADER;
		if (len < 4) {
			set_err(err, errsize, "header index missing");
			return -1;
		}
		out->index = get_u32(data);
		if (out->index > 0x7fffffffu) {
			set_err(err, errsize, "header index out of range");
			return -1;
		}
		pos = 4;
		goto header;
	case SMFIR_REPLBODY:
		out->kind = MCLIENT_R_REPLBODY;
		out->body = data;
		out->body_len = len;
		return 0;
	default: {
		char m[64];

		if ((unsigned char)cmd >= 0x21 && (unsigned char)cmd < 0x7f)
			snprintf(m, sizeof(m), "unknown reply command '%c'", cmd);
		else
			snprintf(m, sizeof(m), "unknown reply command 0x%02x",
			    (unsigned char)cmd);
		set_err(err, errsize, m);
		return -1;
	}
	}
header:
	if ((out->name = take_str(data, len, &pos)) == NULL ||
	    (out->value = take_str(data, len, &pos)) == NULL)
		goto nonul;
	if (!header_name_ok(out->name)) {
		set_err(err, errsize, "bad header name");
		return -1;
	}
	goto end;
empty:
	if (len != 0) {
		set_err(err, errsize, "unexpected data after a verdict");
		return -1;
	}
	return 0;
nonul:
	set_err(err, errsize, "string without NUL");
	return -1;
end:
	if (pos != len) {
		set_err(err, errsize, "trailing bytes after the reply");
		return -1;
	}
	return 0;
}

/* ---- state machine ---------------------------------------------------- */

void mclient_state_init(struct mclient_state *s, const struct mclient_neg *neg)
{
	memset(s, 0, sizeof(*s));
	s->actions = neg->actions;
	s->protocol = neg->protocol;
	s->negotiated = true;
}

static const uint32_t no_flag[MCLIENT_STEP__COUNT] = {
	SMFIP_NOCONNECT, SMFIP_NOHELO, SMFIP_NOMAIL, SMFIP_NORCPT,
	SMFIP_NODATA, SMFIP_NOUNKNOWN, SMFIP_NOHDRS, SMFIP_NOEOH,
	SMFIP_NOBODY, 0
};

static const uint32_t nr_flag[MCLIENT_STEP__COUNT] = {
	SMFIP_NR_CONN, SMFIP_NR_HELO, SMFIP_NR_MAIL, SMFIP_NR_RCPT,
	SMFIP_NR_DATA, SMFIP_NR_UNKN, SMFIP_NR_HDR, SMFIP_NR_EOH,
	SMFIP_NR_BODY, 0
};

static bool message_step(enum mclient_step st)
{
	return st >= MCLIENT_STEP_MAIL && st != MCLIENT_STEP_UNKNOWN;
}

bool mclient_state_sends(const struct mclient_state *s, enum mclient_step st)
{
	if (!s->negotiated || s->failed || s->conn_done ||
	    (unsigned)st >= MCLIENT_STEP__COUNT)
		return false;
	if (st == MCLIENT_STEP_MAIL)	/* a new message: sent again */
		return (s->protocol & SMFIP_NOMAIL) == 0;
	if (message_step(st) && s->msg_done)
		return false;
	if (st == MCLIENT_STEP_BODY && s->skip_body)
		return false;
	return (s->protocol & no_flag[st]) == 0;
}

bool mclient_state_expects_reply(const struct mclient_state *s,
				 enum mclient_step st)
{
	if ((unsigned)st >= MCLIENT_STEP__COUNT)
		return false;
	return (s->protocol & nr_flag[st]) == 0;
}

void mclient_state_new_message(struct mclient_state *s)
{
	s->msg_done = false;
	s->skip_body = false;
}

static const uint32_t mod_action[MCLIENT_R__COUNT] = {
	[MCLIENT_R_QUARANTINE] = SMFIF_QUARANTINE,
	[MCLIENT_R_ADDHEADER] = SMFIF_ADDHDRS,
	[MCLIENT_R_INSHEADER] = SMFIF_ADDHDRS,
	[MCLIENT_R_CHGHEADER] = SMFIF_CHGHDRS,
	[MCLIENT_R_ADDRCPT] = SMFIF_ADDRCPT,
	[MCLIENT_R_ADDRCPT_PAR] = SMFIF_ADDRCPT_PAR,
	[MCLIENT_R_DELRCPT] = SMFIF_DELRCPT,
	[MCLIENT_R_CHGFROM] = SMFIF_CHGFROM,
	[MCLIENT_R_REPLBODY] = SMFIF_CHGBODY,
};

static enum mclient_verdict_use violation(char *err, size_t size,
					  const char *what,
					  enum mclient_step st)
{
	if (err != NULL && size > 0)
		snprintf(err, size, "%s at %s", what, mclient_step_name(st));
	return MCLIENT_USE_VIOLATION;
}

/* A verdict that ends the step: what it ends beyond the step. */
static void verdict_done(struct mclient_state *s, enum mclient_step st,
			 enum mclient_reply_kind k)
{
	bool conn = st == MCLIENT_STEP_CONNECT || st == MCLIENT_STEP_HELO;

	switch (k) {
	case MCLIENT_R_ACCEPT:
		if (conn)
			s->conn_done = true;
		else if (st != MCLIENT_STEP_UNKNOWN)
			s->msg_done = true;
		break;
	case MCLIENT_R_REJECT:
	case MCLIENT_R_TEMPFAIL:
	case MCLIENT_R_REPLYCODE:
		/* At RCPT only that recipient is refused. */
		if (conn)
			s->conn_done = true;
		else if (st != MCLIENT_STEP_RCPT && st != MCLIENT_STEP_UNKNOWN)
			s->msg_done = true;
		break;
	case MCLIENT_R_DISCARD:
		s->msg_done = true;
		break;
	case MCLIENT_R_SHUTDOWN:
	case MCLIENT_R_CONN_FAIL:
		s->conn_done = true;
		break;
	default:
		break;
	}
}

enum mclient_verdict_use mclient_state_reply(struct mclient_state *s,
					     enum mclient_step st,
					     const struct mclient_reply *r,
					     char *err, size_t errsize)
{
	if ((unsigned)st >= MCLIENT_STEP__COUNT)
		return violation(err, errsize, "reply to an unknown step", st);
	if (!mclient_state_sends(s, st))
		return violation(err, errsize, "reply to a step not sent", st);
	if (!mclient_state_expects_reply(s, st))
		return violation(err, errsize, "reply to a no-reply step", st);
	if (mclient_reply_is_modification(r->kind)) {
		if (st != MCLIENT_STEP_EOM)
			return violation(err, errsize, "modification before "
			    "end of message", st);
		if ((s->actions & mod_action[r->kind]) == 0)
			return violation(err, errsize, "modification not "
			    "negotiated", st);
		return MCLIENT_USE_MORE;
	}
	switch (r->kind) {
	case MCLIENT_R_PROGRESS:
		if (st != MCLIENT_STEP_EOM)
			return violation(err, errsize, "progress before end of "
			    "message", st);
		return MCLIENT_USE_MORE;
	case MCLIENT_R_SKIP:
		if (st != MCLIENT_STEP_BODY)
			return violation(err, errsize, "skip outside the body",
			    st);
		if ((s->protocol & SMFIP_SKIP) == 0)
			return violation(err, errsize, "skip not negotiated", st);
		s->skip_body = true;
		return MCLIENT_USE_FINAL;
	case MCLIENT_R_DISCARD:
		if (st == MCLIENT_STEP_CONNECT || st == MCLIENT_STEP_HELO ||
		    st == MCLIENT_STEP_UNKNOWN)
			return violation(err, errsize, "discard outside a "
			    "message", st);
		break;
	case MCLIENT_R_CONTINUE:
	case MCLIENT_R_ACCEPT:
	case MCLIENT_R_REJECT:
	case MCLIENT_R_TEMPFAIL:
	case MCLIENT_R_REPLYCODE:
	case MCLIENT_R_SHUTDOWN:
	case MCLIENT_R_CONN_FAIL:
		break;
	default:
		return violation(err, errsize, "unknown reply", st);
	}
	verdict_done(s, st, r->kind);
	return MCLIENT_USE_FINAL;
}
