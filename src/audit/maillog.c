/*
 * SPDX-License-Identifier: ISC
 * maillog.c - recognizers for the reply lines of Postfix, sendmail, Exim.
 *
 * A line is split into timestamp, host, tag ("postfix/smtpd[123]") and
 * message; the tag picks the recognizer, which then looks for its marker
 * at the one place the MTA writes it. The layouts, from the MTAs' sources:
 *
 *  Postfix smtpd, postscreen:
 *   QID: reject: RCPT from CLIENT: 554 5.7.1 text; from=<a> to=<b> proto=...
 *   (also reject_warning:, milter-reject:; postscreen's CLIENT is [ip]:port)
 *  Postfix cleanup:
 *   QID: milter-reject: END-OF-MESSAGE from CLIENT: 5.7.1 text; from=<a> ...
 *   QID: reject: header Subject: x from CLIENT; from=<a> to=<b> ...: 5.7.1 text
 *  Postfix smtp, lmtp:
 *   QID: to=<b>, relay=..., status=bounced (host H[ip] said: 550 5.1.1 text
 *        (in reply to RCPT TO command))
 *   QID: host H[ip] refused to talk to me: 554 5.7.1 text
 *  sendmail:
 *   QID: ruleset=check_rcpt, arg1=<b>, relay=..., reject=550 5.7.1 text
 *   QID: Milter: to=<b>, reject=550 5.7.1 text
 *   QID: to=<b>, ..., relay=H. [ip], dsn=4.7.1, stat=Deferred: 451 4.7.1 text
 *   QID: reply filter in: 557 5.7.1 text   (Postfix 3.11 reject filter;
 *   QID: reply filter out: 550 5.7.1 text   the docs say "reject filter")
 *   QID: proxy-reject: END-OF-MESSAGE: 554 5.7.0 text; from=<a> ...
 *   reject: RCPT from CLIENT: ...           (old Postfix: no queue id)
 *  Postfix smtp, lmtp:
 *   QID: to=<b>, relay=..., status=sent (250 2.0.0 Ok)   (on request)
 *  Exim (its own main log, or through syslog):
 *   ... H=mx.example.com [ip]: SMTP error from remote mail server after
 *       RCPT TO:<b>: 550 5.1.1 text
 *   ... LMTP error after RCPT TO:<b>: 550 text
 *   ... H=mx [ip]: Malformed SMTP reply in response to end of data: TEXT
 *   ... Remote host closed connection in response to X (EHLO response
 *       was: 550 text)
 *   ... rejected RCPT <b>: NAME [IP] : response to "RCPT TO:<b>" was: 550 ..
 *   ... sender verify fail for <a>: response to "MAIL FROM:<>" was: 550 ..
 *   ... login authenticator failed for H [ip]: 535 text   (this server's)
 *   ... plain authenticator failed H=mx [ip] 535 text     (a peer's)
 *   ... temporarily rejected ATRN 'x': 453 text
 *   ... => b R=.. T=.. H=mx [ip] C="250 2.0.0 Ok"         (on request)
 *  Line prefixes: "<PRI>" (forwarded syslog), classic stamps with one or
 *  two blanks before a one-digit day, RFC 3339, "YYYY-MM-DD hh:mm:ss host
 *  tag[pid]: " (rsyslog templates), Exim's own "YYYY-MM-DD hh:mm:ss[.mmm]".
 */
#include <string.h>

#include <smtpreply/text.h>

#include "maillog.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * The first S[0..N) in P[0..LEN), or NULL. Log lines are short and the
 * markers hold a byte that is rare in them (':', ';', '=', '('): memchr
 * for that byte, then compare, beats a general substring search here.
 */
static const char *find(const char *p, size_t len, const char *s, size_t n)
{
	const char *q, *end;
	size_t a;

	if (n == 0 || n > len)
		return n == 0 ? p : NULL;
	for (a = 0; a < n; a++)
		if (s[a] == ':' || s[a] == ';' || s[a] == '=' || s[a] == '(' ||
		    s[a] == '<' || s[a] == '[' || s[a] == '?')
			break;
	if (a == n)
		return memmem(p, len, s, n);
	end = p + len - (n - a - 1);	/* last place the anchor may be */
	for (q = p + a; q < end && (q = memchr(q, s[a], (size_t)(end - q))) != NULL;
	    q++)
		if (memcmp(q - a, s, n) == 0)
			return q - a;
	return NULL;
}

#define FIND(p, len, lit) find((p), (len), (lit), sizeof(lit) - 1)

/* The last S[0..N) in P[0..LEN), or NULL. */
static const char *find_last(const char *p, size_t len, const char *s,
			     size_t n)
{
	const char *last = NULL, *q = p;

	while ((q = find(q, len - (size_t)(q - p), s, n)) != NULL) {
		last = q;
		q++;
	}
	return last;
}

#define FIND_LAST(p, len, lit) find_last((p), (len), (lit), sizeof(lit) - 1)

static bool starts(const char *p, size_t len, const char *s, size_t n)
{
	return len >= n && memcmp(p, s, n) == 0;
}

#define STARTS(p, len, lit) starts((p), (len), (lit), sizeof(lit) - 1)

/* "550 ", "550-", "550" at the end: a reply with its basic code. */
static bool code_at(const char *p, size_t len)
{
	return sr_code_at(p, len) >= 0;
}

/*
 * A reply that starts with a code that is no code: "9999 ...", "55 ...",
 * "55O 5.7.1 ...", "5500 ..." (a digit first, then 2 to 5 digits and
 * letters in all, then a blank or "-"). A token cut by the end of the
 * line is not counted (the log may have cut it), nor 3 digits followed
 * by something else ("421, errormode=4": a field, not a reply).
 */
static bool malformed_code_at(const char *p, size_t len)
{
	size_t i;

	if (len < 3 || !is_digit(p[0]))
		return false;
	for (i = 1; i < len && i < 6 && is_alnum(p[i]); i++)
		continue;
	if (i < 2 || i >= len || (p[i] != ' ' && p[i] != '-'))
		return false;
	return !(i == 3 && is_digit(p[1]) && is_digit(p[2]));
}

/* A token that starts like an enhanced code: "5.7.1 ..." (a digit, a dot). */
static bool enhanced_at(const char *p, size_t len)
{
	return len >= 2 && is_digit(p[0]) && p[1] == '.';
}

/* ---- the line header ---------------------------------------------------- */

enum tag_kind {
	TAG_OTHER,
	TAG_POSTFIX_SMTPD,	/* smtpd, postscreen */
	TAG_POSTFIX_CLEANUP,
	TAG_POSTFIX_SMTP,	/* smtp, lmtp */
	TAG_SENDMAIL,
	TAG_EXIM
};

struct header {
	const char *stamp;
	size_t stamp_len;
	const char *tag;	/* "postfix/smtpd" (without "[pid]") */
	size_t tag_len;
	const char *msg;	/* after "tag[pid]: " */
	size_t msg_len;
	bool exim_native;	/* Exim's own log: no host, no tag */
	const char *proc;	/* "host tag[pid]" */
	size_t proc_len;
};

/*
 * Where the time of a classic stamp starts: "Dec  1 ", "Dec 01 " (7), or
 * "Dec 1 " (6: a syslog that does not pad the day); 0 for none.
 */
static size_t classic_time_at(const char *p, size_t len)
{
	if (len < 14 || p[3] != ' ')
		return 0;
	if ((p[4] == ' ' || is_digit(p[4])) && is_digit(p[5]) && p[6] == ' ')
		return 7;
	if (is_digit(p[4]) && p[5] == ' ')
		return 6;
	return 0;
}

/*
 * "Dec  1 19:57:01", "Dec 01 19:57:01", "Dec 1 19:57:01", and with a
 * fraction of a second ("Dec 01 19:57:01.123456", journalctl -o
 * short-precise): the length of the stamp, or 0.
 */
static size_t classic_stamp(const char *p, size_t len)
{
	size_t t = classic_time_at(p, len), i;

	if (t == 0 || len < t + 9 || !is_digit(p[t]) || p[t + 2] != ':' ||
	    p[t + 5] != ':')
		return 0;
	i = t + 8;
	if (p[i] == '.')
		for (i++; i < len && is_digit(p[i]); i++)
			continue;
	return i < len && p[i] == ' ' ? i : 0;
}

/* "2026-12-01T..." or "2026-12-01 19:57:01" (Exim). */
static bool iso_date(const char *p, size_t len)
{
	return len >= 20 && is_digit(p[0]) && is_digit(p[3]) && p[4] == '-' &&
	    p[7] == '-' && is_digit(p[8]) && is_digit(p[9]) &&
	    (p[10] == 'T' || p[10] == ' ') && is_digit(p[11]) && p[13] == ':';
}

/* On the path of every line: inlined (constant names, no calls). */
#define HOT static inline __attribute__((always_inline))

HOT bool syslog_rest(const char *p, size_t len, size_t i, struct header *h);
HOT enum tag_kind classify_tag(const char *t, size_t n);

static bool parse_header(const char *p, size_t len, struct header *h)
{
	size_t i;
	const char *sp;

	memset(h, 0, sizeof(*h));
	/* "<22>": the priority of a forwarded syslog message */
	if (len > 3 && p[0] == '<') {
		for (i = 1; i < len && i < 5 && is_digit(p[i]); i++)
			continue;
		if (i == 1 || i >= len || p[i] != '>')
			return false;
		p += i + 1;
		len -= i + 1;
	}
	if ((i = classic_stamp(p, len)) > 0) {
		h->stamp = p;
		h->stamp_len = i;
		i++;
	} else if (iso_date(p, len) && p[10] == 'T') {
		sp = memchr(p, ' ', len);
		if (sp == NULL)
			return false;
		h->stamp = p;
		h->stamp_len = (size_t)(sp - p);
		i = h->stamp_len + 1;
	} else if (iso_date(p, len) && p[10] == ' ' && p[16] == ':') {
		/* "2026-12-01 19:57:01", "2026-12-01 19:57:01.712" */
		i = 19;
		if (p[i] == '.')
			for (i++; i < len && is_digit(p[i]); i++)
				continue;
		if (i >= len || p[i] != ' ')
			return false;
		h->stamp = p;
		h->stamp_len = i;
		/* an rsyslog template: "host postfix/smtpd[1]: " follows */
		if (syslog_rest(p, len, i + 1, h) &&
		    classify_tag(h->tag, h->tag_len) != TAG_OTHER)
			return true;
		/* Exim's main log: "2026-12-01 19:57:01 [pid] id ..." */
		h->tag = NULL;
		h->tag_len = 0;
		h->proc = NULL;
		h->proc_len = 0;
		h->msg = p + i + 1;
		h->msg_len = len - i - 1;
		h->exim_native = true;
		return true;
	} else {
		return false;
	}
	return syslog_rest(p, len, i, h);
}

/* "host tag[pid]: message" from P[I]. */
HOT bool syslog_rest(const char *p, size_t len, size_t i, struct header *h)
{
	const char *sp, *colon;
	size_t host = i;

	/* host, then "tag[pid]: " or "tag: " */
	sp = memchr(p + i, ' ', len - i);
	if (sp == NULL)
		return false;
	i = (size_t)(sp - p) + 1;
	for (colon = p + i; (colon = memchr(colon, ':', len - (size_t)(colon - p)));
	    colon++)
		if ((size_t)(colon - p) + 1 < len && colon[1] == ' ')
			break;
	if (colon == NULL)
		return false;
	h->tag = p + i;
	h->tag_len = (size_t)(colon - h->tag);
	if (memchr(h->tag, ' ', h->tag_len) != NULL)
		return false;
	sp = memchr(h->tag, '[', h->tag_len);
	if (sp != NULL)
		h->tag_len = (size_t)(sp - h->tag);
	h->proc = p + host;
	h->proc_len = (size_t)(colon - h->proc);
	h->msg = colon + 2;
	h->msg_len = len - (size_t)(h->msg - p);
	return true;
}

HOT bool tag_is(const char *t, size_t n, const char *s)
{
	size_t k = strlen(s);

	return n == k && memcmp(t, s, k) == 0;
}

HOT enum tag_kind classify_tag(const char *t, size_t n)
{
	const char *slash = NULL, *d;
	size_t dn, i;

	for (i = 0; i < n; i++)
		if (t[i] == '/')
			slash = t + i;	/* "postfix/submission/smtpd": the last */

	if (slash != NULL) {
		/* "postfix/smtpd", "postfix-out/smtp" (multi-instance), or
		 * any other syslog_name ("mta-in/smtpd") */
		d = slash + 1;
		dn = n - (size_t)(d - t);
		if (tag_is(d, dn, "smtpd") || tag_is(d, dn, "postscreen"))
			return TAG_POSTFIX_SMTPD;
		if (tag_is(d, dn, "cleanup"))
			return TAG_POSTFIX_CLEANUP;
		if (tag_is(d, dn, "smtp") || tag_is(d, dn, "lmtp"))
			return TAG_POSTFIX_SMTP;
		return TAG_OTHER;
	}
	if (tag_is(t, n, "sm-mta") || tag_is(t, n, "sendmail") ||
	    tag_is(t, n, "sm-msp-queue"))
		return TAG_SENDMAIL;
	if (tag_is(t, n, "exim") || tag_is(t, n, "exim4"))
		return TAG_EXIM;
	return TAG_OTHER;
}

/* ---- helpers ------------------------------------------------------------ */

/* Skip "QUEUEID: " (or "NOQUEUE: "); the rest, or NULL. */
static const char *after_qid(const char *m, size_t len, size_t *rest)
{
	size_t i = 0;

	while (i < len && is_alnum(m[i]))
		i++;
	if (i == 0 || i + 2 > len || m[i] != ':' || m[i + 1] != ' ')
		return NULL;
	*rest = len - i - 2;
	return m + i + 2;
}

static enum maillog_phase phase_word(const char *w, size_t n)
{
	if (tag_is(w, n, "RCPT"))
		return MAILLOG_PHASE_RCPT;
	if (tag_is(w, n, "MAIL"))
		return MAILLOG_PHASE_MAIL;
	if (tag_is(w, n, "CONNECT"))
		return MAILLOG_PHASE_CONNECT;
	if (tag_is(w, n, "EHLO") || tag_is(w, n, "HELO"))
		return MAILLOG_PHASE_HELO;
	if (tag_is(w, n, "DATA") || tag_is(w, n, "BDAT"))
		return MAILLOG_PHASE_DATA;
	if (tag_is(w, n, "END-OF-MESSAGE"))
		return MAILLOG_PHASE_EOM;
	return MAILLOG_PHASE_NONE;
}

/*
 * End of a Postfix reply: where the tail "; from=<S> to=<R> proto=P
 * helo=<H>" starts (postscreen: ", " between the fields; each field may
 * be missing). Client-chosen addresses can hold "; from=<" themselves, so
 * the tail is peeled from the right, field by field, each one checked to
 * run to where the previous one started. Without a tail: the whole rest.
 */
static size_t postfix_reply_end(const char *r, size_t len)
{
	static const char *const keys[] = { "helo=<", "proto=", "to=<", "from=<" };
	size_t end = len, i, at;
	const char *q;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		size_t kl = strlen(keys[i]);

		q = find_last(r, end, keys[i], kl);
		if (q == NULL)
			continue;
		at = (size_t)(q - r);
		/* the field runs to END: "<...>" closed there, or a bare word */
		if (keys[i][kl - 1] == '<' ? r[end - 1] != '>' :
		    memchr(q, ' ', end - at) != NULL)
			continue;
		if (at >= 2 && r[at - 2] == ';' && r[at - 1] == ' ')
			return at - 2;		/* the tail starts here */
		if (at >= 2 && r[at - 2] == ',' && r[at - 1] == ' ')
			end = at - 2;
		else if (at >= 1 && r[at - 1] == ' ')
			end = at - 1;
		else
			break;
	}
	return len;
}

/* Copy a peer "name[ip]" (or "name. [ip]", "name [ip]") into OUT. */
static void set_peer(struct maillog_reply *out, const char *name, size_t nlen,
		     const char *ip, size_t iplen)
{
	size_t o = 0;

	while (nlen > 0 && name[nlen - 1] == '.')
		nlen--;		/* sendmail's "mx.example.com." */
	if (nlen >= 2 && name[0] == '[' && name[nlen - 1] == ']') {
		name++;		/* sendmail's "relay=[192.0.2.9] [192.0.2.9]" */
		nlen -= 2;
	}
	if (ip != NULL && iplen > 5 && memcmp(ip, "IPv6:", 5) == 0) {
		ip += 5;	/* sendmail's "[IPv6:2001:db8::25]" */
		iplen -= 5;
	}
	if (nlen > MAILLOG_PEER_MAX - 1)
		nlen = MAILLOG_PEER_MAX - 1;
	memcpy(out->peer, name, nlen);
	o = nlen;
	if (ip != NULL && iplen > 0 && o + iplen + 2 < MAILLOG_PEER_MAX) {
		out->peer[o++] = '[';
		memcpy(out->peer + o, ip, iplen);
		o += iplen;
		out->peer[o++] = ']';
	}
	out->peer[o] = '\0';
}

/* ---- Postfix ----------------------------------------------------------- */

/*
 * "QID: reply filter in: REPLY" and "... out: REPLY" (smtpd; "reject
 * filter" in the documentation): the whole rest is the reply.
 */
static bool postfix_filter(const char *r, size_t n, struct maillog_reply *out)
{
	size_t k;

	if (STARTS(r, n, "reply filter ") || STARTS(r, n, "reject filter "))
		k = r[2] == 'p' ? 13 : 14;
	else
		return false;
	if (STARTS(r + k, n - k, "in: ")) {
		out->filter = MAILLOG_FILTER_IN;
		k += 4;
	} else if (STARTS(r + k, n - k, "out: ")) {
		out->filter = MAILLOG_FILTER_OUT;
		k += 5;
	} else
		return false;
	out->reply = r + k;
	out->reply_len = n - k;
	out->has_code = code_at(out->reply, out->reply_len);
	out->malformed = !out->has_code &&
	    malformed_code_at(out->reply, out->reply_len);
	out->has_code |= out->malformed;
	return out->has_code;
}

/*
 * "QID: proxy-reject: END-OF-MESSAGE: 554 5.7.0 text; from=<a> ..." (the
 * before-queue content filter's reply, which smtpd passes on to its
 * client; Postfix 3.x logs no queue id, older ones do), and
 * "proxy-accept:" (a success, on request).
 */
static bool postfix_proxy(const char *r, size_t n, unsigned flags,
			  struct maillog_reply *out)
{
	const char *c;
	size_t k;

	if (STARTS(r, n, "proxy-reject: "))
		k = 14;
	else if (STARTS(r, n, "proxy-accept: ") && (flags & MAILLOG_WANT_SUCCESS))
		k = 14;
	else
		return false;
	out->success = r[6] == 'a';
	r += k;
	n -= k;
	c = FIND(r, n, ": ");
	if (c == NULL || memchr(r, ' ', (size_t)(c - r)) != NULL)
		return false;
	out->phase = phase_word(r, (size_t)(c - r));
	n -= (size_t)(c + 2 - r);
	r = c + 2;
	out->has_code = code_at(r, n);
	out->malformed = !out->has_code && malformed_code_at(r, n);
	if (!out->has_code && !out->malformed)
		return false;
	out->has_code = true;
	if (out->success && r[0] != '2')
		return false;
	out->reply = r;
	out->reply_len = postfix_reply_end(r, n);
	return true;
}

/* "QID: reject: PHASE from CLIENT: REPLY; from=<..." (smtpd, cleanup). */
static bool postfix_reject(const char *m, size_t len, bool cleanup,
			   unsigned flags, struct maillog_reply *out)
{
	const char *r, *sp, *c;
	size_t n, k;

	if (!cleanup && (STARTS(m, len, "reject: ") ||
	    STARTS(m, len, "proxy-"))) {
		/* old Postfix: "reject: RCPT from ..." without a queue id;
		 * Postfix 3: "proxy-reject: ..." without one */
		r = m;
		n = len;
	} else if ((r = after_qid(m, len, &n)) == NULL)
		return false;
	if (STARTS(r, n, "reject: "))
		k = 8;
	else if (!cleanup && STARTS(r, n, "reject_warning: "))
		k = 16;
	else if (STARTS(r, n, "milter-reject: "))
		k = 15;
	else if (!cleanup && n > 0 && r[0] == 'r')
		return postfix_filter(r, n, out);
	else if (!cleanup && n > 0 && r[0] == 'p')
		return postfix_proxy(r, n, flags, out);
	else
		return false;
	r += k;
	n -= k;
	if (cleanup && (STARTS(r, n, "header ") || STARTS(r, n, "body ") ||
	    STARTS(r, n, "mime-header ") || STARTS(r, n, "nested-header "))) {
		/* header/body checks: the reply closes the line, after "...>: " */
		c = FIND_LAST(r, n, ">: ");
		if (c == NULL || !enhanced_at(c + 3, n - (size_t)(c + 3 - r)))
			return false;
		out->reply = c + 3;
		out->reply_len = n - (size_t)(c + 3 - r);
		out->phase = MAILLOG_PHASE_EOM;
		out->has_code = code_at(out->reply, out->reply_len);
		return true;
	}
	sp = memchr(r, ' ', n);
	if (sp == NULL)
		return false;
	out->phase = phase_word(r, (size_t)(sp - r));
	k = (size_t)(sp - r) + 1;
	if (!STARTS(r + k, n - k, "from "))
		return false;
	k += 5;
	/* CLIENT has no blank: "unknown[192.0.2.1]", "[192.0.2.1]:4321" */
	for (c = r + k; c < r + n && *c != ' '; c++)
		continue;
	if (c == r + k || c >= r + n || c[-1] != ':')
		return false;
	r = c + 1;
	n = len - (size_t)(r - m);
	/* cleanup logs no basic code, and for a milter reply without an
	 * enhanced code just the text */
	out->has_code = code_at(r, n);
	if (!out->has_code && !cleanup) {
		if (!malformed_code_at(r, n))
			return false;
		out->malformed = out->has_code = true;
	}
	if (cleanup && n == 0)
		return false;
	out->reply = r;
	out->reply_len = postfix_reply_end(r, n);
	return true;
}

/* "(in reply to RCPT TO command)" -> RCPT. */
static enum maillog_phase in_reply_to(const char *t, size_t n)
{
	if (STARTS(t, n, "MAIL FROM command"))
		return MAILLOG_PHASE_MAIL;
	if (STARTS(t, n, "RCPT TO command"))
		return MAILLOG_PHASE_RCPT;
	if (STARTS(t, n, "end of DATA command"))
		return MAILLOG_PHASE_EOM;
	if (STARTS(t, n, "DATA command") || STARTS(t, n, "BDAT command"))
		return MAILLOG_PHASE_DATA;
	if (STARTS(t, n, "EHLO command") || STARTS(t, n, "HELO command") ||
	    STARTS(t, n, "LHLO command"))
		return MAILLOG_PHASE_HELO;
	return MAILLOG_PHASE_NONE;
}

/* A peer's success reply R[0..LEN) at the end of data. */
static void remote_success(struct maillog_reply *out, const char *r, size_t len)
{
	out->reply = r;
	out->reply_len = len;
	out->has_code = true;
	out->success = true;
	out->dir = MAILLOG_DIR_REMOTE;
	out->phase = MAILLOG_PHASE_EOM;
}

/*
 * "QID: to=<b>, relay=mx.example.com[192.0.2.1]:25, ..., status=sent (250
 * 2.0.0 Ok: queued as X)": a peer's success reply at the end of data.
 */
static bool postfix_sent(const char *m, size_t len, struct maillog_reply *out)
{
	const char *r = FIND(m, len, ", status=sent ("), *rl, *b, *e;
	size_t n;

	if (r == NULL)
		return false;
	r += 15;
	n = len - (size_t)(r - m);
	if (!code_at(r, n) || r[0] != '2' || r[n - 1] != ')')
		return false;
	remote_success(out, r, n - 1);
	rl = FIND(m, (size_t)(r - m), " relay=");
	if (rl != NULL) {
		rl += 7;
		e = memchr(rl, ',', (size_t)(r - rl));
		b = e != NULL ? memchr(rl, '[', (size_t)(e - rl)) : NULL;
		if (b != NULL) {
			const char *c = memchr(b, ']', (size_t)(e - b));

			if (c != NULL)
				set_peer(out, rl, (size_t)(b - rl), b + 1,
				    (size_t)(c - b - 1));
		}
	}
	return true;
}

/*
 * "host H[ip] said: REPLY (in reply to X command)" (smtp, lmtp), also
 * "refused to talk to me: REPLY", "refused to start TLS: REPLY" and
 * "SASL authentication failed; server H[ip] said: REPLY". The peer is
 * "host H" or "server H" where the client's own report puts it: in the
 * status's parenthesis, first in the message, after "; " or "but "; not
 * in "delivery temporarily suspended: host H ...", which repeats a reply
 * already logged for every message queued behind it.
 */
static bool postfix_smtp(const char *m, size_t len, unsigned flags,
			 struct maillog_reply *out)
{
	static const struct {
		const char *text;	/* before ": " */
		size_t len;
	} markers[] = {
		{ " said", 5 },
		{ " refused to talk to me", 22 },
		{ " refused to start TLS", 21 },
	};
	const char *mk, *h, *r, *t, *br, *kw, *body;
	size_t n, mklen = 0, k, rest;
	bool paren;

	body = after_qid(m, len, &rest);
	/* One pass over the ": " of the line for any marker. */
	for (mk = m; (mk = memchr(mk, ':', len - (size_t)(mk - m))) != NULL; mk++) {
		size_t at = (size_t)(mk - m);

		if (at + 1 >= len || mk[1] != ' ')
			continue;
		for (k = 0; k < sizeof(markers) / sizeof(markers[0]); k++)
			if (at >= markers[k].len &&
			    memcmp(mk - markers[k].len, markers[k].text,
			    markers[k].len) == 0)
				break;
		if (k < sizeof(markers) / sizeof(markers[0])) {
			mklen = markers[k].len + 2;
			mk -= markers[k].len;
			break;
		}
	}
	if (mk == NULL)
		return (flags & MAILLOG_WANT_SUCCESS) && postfix_sent(m, len, out);
	/* "host " or "server " right before the peer, which has no blank */
	for (h = mk; h > m && h[-1] != ' '; h--)
		continue;
	if (h == mk)
		return false;
	if (h - m >= 5 && memcmp(h - 5, "host ", 5) == 0)
		kw = h - 5;
	else if (h - m >= 7 && memcmp(h - 7, "server ", 7) == 0)
		kw = h - 7;
	else
		return false;
	/* inside the parenthesis of "status=... (...)": drop its ")" */
	paren = (kw > m && kw[-1] == '(') || FIND(m, (size_t)(kw - m), "status=") != NULL;
	if (!(kw > m && kw[-1] == '(') && kw != body &&
	    !(kw - m >= 2 && kw[-2] == ';' && kw[-1] == ' ') &&
	    !(kw - m >= 4 && memcmp(kw - 4, "but ", 4) == 0))
		return false;
	r = mk + mklen;
	n = len - (size_t)(r - m);
	if (!code_at(r, n)) {
		if (!malformed_code_at(r, n))
			return false;
		out->malformed = true;
	}
	if (paren && n > 0 && r[n - 1] == ')')
		n--;		/* the status=...( ... ) parenthesis */
	/* "refused to talk to me" answers the greeting, EHLO or HELO: the
	 * log does not say which */
	out->phase = MAILLOG_PHASE_NONE;
	t = FIND_LAST(r, n, " (in reply to ");
	if (t != NULL) {
		out->phase = in_reply_to(t + 14, n - (size_t)(t + 14 - r));
		n = (size_t)(t - r);
	}
	out->reply = r;
	out->reply_len = n;
	out->has_code = true;
	out->dir = MAILLOG_DIR_REMOTE;
	br = memchr(h, '[', (size_t)(mk - h));
	if (br != NULL && mk[-1] == ']')
		set_peer(out, h, (size_t)(br - h), br + 1, (size_t)(mk - br - 2));
	else
		set_peer(out, h, (size_t)(mk - h), NULL, 0);
	return true;
}

/* ---- sendmail ----------------------------------------------------------- */

static enum maillog_phase sendmail_phase(const char *m, size_t len)
{
	const char *mil = FIND(m, len, "Milter: ");

	if (mil != NULL) {
		size_t n = len - (size_t)(mil + 8 - m);
		const char *w = mil + 8;

		if (STARTS(w, n, "from="))
			return MAILLOG_PHASE_MAIL;
		if (STARTS(w, n, "to="))
			return MAILLOG_PHASE_RCPT;
		if (STARTS(w, n, "data"))
			return MAILLOG_PHASE_EOM;
		if (STARTS(w, n, "connect"))
			return MAILLOG_PHASE_CONNECT;
		if (STARTS(w, n, "helo"))
			return MAILLOG_PHASE_HELO;
		/* "Milter: cmd=data, reject=..." (the DATA command itself) */
		if (STARTS(w, n, "cmd=data"))
			return MAILLOG_PHASE_DATA;
		if (STARTS(w, n, "cmd=mail"))
			return MAILLOG_PHASE_MAIL;
		if (STARTS(w, n, "cmd=rcpt"))
			return MAILLOG_PHASE_RCPT;
		if (STARTS(w, n, "cmd=helo") || STARTS(w, n, "cmd=ehlo"))
			return MAILLOG_PHASE_HELO;
		return MAILLOG_PHASE_NONE;
	}
	if (FIND(m, len, "ruleset=check_rcpt") != NULL)
		return MAILLOG_PHASE_RCPT;
	if (FIND(m, len, "ruleset=check_mail") != NULL)
		return MAILLOG_PHASE_MAIL;
	if (FIND(m, len, "ruleset=check_relay") != NULL)
		return MAILLOG_PHASE_CONNECT;
	if (FIND(m, len, "ruleset=check_data") != NULL)
		return MAILLOG_PHASE_DATA;
	return MAILLOG_PHASE_NONE;
}

/* "relay=mx.example.com. [192.0.2.1]" into the peer. */
static void sendmail_peer(const char *m, size_t len, struct maillog_reply *out)
{
	const char *r = FIND(m, len, "relay="), *e, *b, *c;
	size_t n;

	if (r == NULL)
		return;
	r += 6;
	n = len - (size_t)(r - m);
	e = memchr(r, ',', n);
	if (e == NULL)
		e = r + n;
	/* the address is the last [...] ("relay=[192.0.2.9] [192.0.2.9]") */
	for (b = e; b > r && b[-1] != '['; b--)
		continue;
	b = b > r ? b - 1 : NULL;
	c = b != NULL ? memchr(b, ']', (size_t)(e - b)) : NULL;
	if (b != NULL && c != NULL) {
		const char *ne = b;

		while (ne > r && ne[-1] == ' ')
			ne--;
		set_peer(out, r, (size_t)(ne - r), b + 1, (size_t)(c - b - 1));
	} else
		set_peer(out, r, (size_t)(e - r), NULL, 0);
}

/*
 * "..., mailer=esmtp, ..., relay=H. [ip], dsn=5.1.1, stat=User unknown":
 * no basic code, the reply is "dsn stat". A peer's reply when an SMTP
 * mailer reached a relay address, this server's for the local mailer;
 * without a relay address (DNS failure) no reply was received.
 */
static bool sendmail_dsn(const char *m, size_t len, const char *stat,
			 size_t slen, struct maillog_reply *out)
{
	const char *d = FIND(m, len, ", dsn="), *e, *mailer, *relay;
	size_t dl;

	if (d == NULL || slen == 0)
		return false;
	d += 6;
	e = memchr(d, ',', len - (size_t)(d - m));
	if (e == NULL)
		return false;
	dl = (size_t)(e - d);
	if (dl < 5 || (d[0] != '4' && d[0] != '5') || d[1] != '.' ||
	    dl + 1 + slen > MAILLOG_BUILT_MAX)
		return false;
	mailer = FIND(m, len, ", mailer=");
	if (mailer == NULL)
		return false;
	mailer += 9;
	if (STARTS(mailer, len - (size_t)(mailer - m), "local,") ||
	    STARTS(mailer, len - (size_t)(mailer - m), "prog,"))
		out->dir = MAILLOG_DIR_LOCAL;
	else {
		relay = FIND(m, len, "relay=");
		if (relay == NULL || (e = memchr(relay, ',', len -
		    (size_t)(relay - m))) == NULL || memchr(relay, '[',
		    (size_t)(e - relay)) == NULL)
			return false;
		out->dir = MAILLOG_DIR_REMOTE;
		sendmail_peer(m, len, out);
	}
	memcpy(out->built, d, dl);
	out->built[dl] = ' ';
	memcpy(out->built + dl + 1, stat, slen);
	out->reply = out->built;
	out->reply_len = dl + 1 + slen;
	out->has_code = false;
	return true;
}

static bool sendmail_line(const char *m, size_t len, struct maillog_reply *out)
{
	const char *p, *s;
	size_t n;

	/* This server's reply: "..., reject=550 5.7.1 text". sendmail logs
	 * each milter reject twice, as "milter=NAME, action=rcpt, reject=..."
	 * and as "Milter: to=<...>, reject=...": the second counts. */
	p = FIND(m, len, "reject=");
	if (p != NULL && FIND(m, (size_t)(p - m), ", action=") != NULL &&
	    FIND(m, (size_t)(p - m), "milter=") != NULL)
		return false;
	if (p != NULL && p > m && (p[-1] == ' ' || p[-1] == ',')) {
		p += 7;
		n = len - (size_t)(p - m);
		if (!code_at(p, n)) {
			if (!malformed_code_at(p, n))
				return false;
			out->malformed = true;
		}
		out->reply = p;
		out->reply_len = n;
		out->has_code = true;
		out->phase = sendmail_phase(m, (size_t)(p - m));
		return true;
	}
	/* A peer's reply on a delivery: "..., stat=Deferred: 451 4.7.1 text" */
	s = FIND(m, len, ", stat=");
	if (s == NULL)
		return false;
	s += 7;
	n = len - (size_t)(s - m);
	if (STARTS(s, n, "Deferred: ")) {
		s += 10;
		n -= 10;
		if (malformed_code_at(s, n))
			out->malformed = true;
		else if (!code_at(s, n))
			return false;	/* "Connection timed out": no reply */
	} else if (STARTS(s, n, "Deferred") || STARTS(s, n, "Sent")) {
		return false;	/* no reply received, or a success */
	}
	if (code_at(s, n) || out->malformed) {
		out->reply = s;
		out->reply_len = n;
		out->has_code = true;
		out->dir = MAILLOG_DIR_REMOTE;
		sendmail_peer(m, len, out);
		return true;
	}
	return sendmail_dsn(m, len, s, n, out);
}

/* ---- Exim --------------------------------------------------------------- */

static enum maillog_phase exim_phase(const char *a, size_t n)
{
	if (STARTS(a, n, "pipelined "))
		return exim_phase(a + 10, n - 10);
	if (STARTS(a, n, "RCPT TO"))
		return MAILLOG_PHASE_RCPT;
	if (STARTS(a, n, "MAIL FROM"))
		return MAILLOG_PHASE_MAIL;
	if (STARTS(a, n, "end of data"))
		return MAILLOG_PHASE_EOM;
	if (STARTS(a, n, "DATA") || STARTS(a, n, "BDAT"))
		return MAILLOG_PHASE_DATA;
	if (STARTS(a, n, "initial connection"))
		return MAILLOG_PHASE_CONNECT;
	if (STARTS(a, n, "EHLO") || STARTS(a, n, "HELO") || STARTS(a, n, "LHLO"))
		return MAILLOG_PHASE_HELO;
	return MAILLOG_PHASE_NONE;
}

/*
 * The peer of a "name [ip]" written at P (up to END): "mx.example.com
 * [192.0.2.1]", "mx [192.0.2.1]:25", "[192.0.2.1]". False when there is
 * no "[ip]" before END.
 */
static bool exim_name_ip(const char *p, const char *end,
			 struct maillog_reply *out)
{
	const char *b = memchr(p, '[', (size_t)(end - p)), *c, *ne;

	if (b == NULL || (c = memchr(b, ']', (size_t)(end - b))) == NULL)
		return false;
	for (ne = b; ne > p && ne[-1] == ' '; ne--)
		continue;
	if (memchr(p, ' ', (size_t)(ne - p)) != NULL)
		return false;
	set_peer(out, p, (size_t)(ne - p), b + 1, (size_t)(c - b - 1));
	return true;
}

/* The peer from " H=mx.example.com [192.0.2.1]" in M[0..LEN). */
static void exim_peer_h(const char *m, size_t len, struct maillog_reply *out)
{
	const char *h = STARTS(m, len, "H=") ? m - 1 : FIND(m, len, " H="), *e;

	if (h == NULL)
		return;
	h += 3;
	e = memchr(h, ']', len - (size_t)(h - m));
	if (e != NULL && exim_name_ip(h, e + 1, out))
		return;
	e = memchr(h, ' ', len - (size_t)(h - m));
	set_peer(out, h, (size_t)((e != NULL ? e : m + len) - h), NULL, 0);
}

/*
 * The reply after the ": " that ends command A (as Exim writes it: "RCPT
 * TO:<b>", "MAIL FROM:<a> SIZE=12", "end of data", "EHLO name"): for an
 * address the first ": " after its ">", else the first ": ". NULL when
 * there is none.
 */
static const char *exim_after_command(const char *a, size_t n)
{
	const char *c = a, *gt;

	if (STARTS(a, n, "pipelined "))
		c += 10;
	if ((STARTS(c, n - (size_t)(c - a), "RCPT TO:<") ||
	    STARTS(c, n - (size_t)(c - a), "MAIL FROM:<")) &&
	    (gt = memchr(c, '>', n - (size_t)(c - a))) != NULL)
		c = gt;
	c = FIND(c, n - (size_t)(c - a), ": ");
	return c != NULL ? c + 2 : NULL;
}

/* The peer from "NAME [IP] : " right before P (a callout's host). */
static bool exim_host_before(const char *m, const char *p,
			     struct maillog_reply *out)
{
	const char *s;

	if (!(p - m >= 6 && memcmp(p - 3, " : ", 3) == 0 && p[-4] == ']'))
		return false;
	for (s = p - 4; s > m && s[-1] != ' '; s--)
		continue;	/* s: the "[ip]" */
	if (!(s - m >= 2 && s[-1] == ' '))
		return false;
	for (s -= 2; s > m && s[-1] != ' '; s--)
		continue;	/* s: the name */
	return exim_name_ip(s, p - 3, out);
}

/* A delivery line ("== b R=.. T=.. defer (-19) H=..."), not a host's. */
static bool exim_delivery_line(const char *m, size_t upto)
{
	return FIND(m, upto, " T=") != NULL || FIND(m, upto, " R=") != NULL;
}

/* REPLY[0..N) as the reply: with a code, a malformed one, or none. */
static bool exim_reply(const char *r, size_t n, bool any_text,
		       struct maillog_reply *out)
{
	if (n == 0)
		return false;
	out->reply = r;
	out->reply_len = n;
	out->has_code = code_at(r, n);
	if (!out->has_code) {
		/* Exim said it was malformed: any text is a finding */
		if (!any_text && !malformed_code_at(r, n))
			return false;
		out->malformed = out->has_code = true;
	}
	return true;
}

/* The reply after "MARKER COMMAND: " (MARKER at P, MLEN long). */
static bool exim_after(const char *m, size_t len, const char *p, size_t mlen,
		       bool any_text, struct maillog_reply *out)
{
	const char *a = p + mlen, *r = exim_after_command(a, len - (size_t)(a - m));

	if (r == NULL || !exim_reply(r, len - (size_t)(r - m), any_text, out))
		return false;
	out->dir = MAILLOG_DIR_REMOTE;
	out->phase = exim_phase(a, (size_t)(r - a));
	exim_peer_h(m, (size_t)(p - m), out);
	return true;
}

/*
 * This server's rejects, when their text starts with a code:
 * "H=(helo) [ip] F=<a> rejected RCPT <b>: 550 5.7.1 text",
 * "... rejected after DATA: 550 ...", "... temporarily rejected ATRN
 * 'x': 453 ...". Without a code they are no reply.
 */
static bool exim_local(const char *m, size_t len, struct maillog_reply *out)
{
	const char *p = FIND(m, len, " rejected "), *w, *r;
	size_t n, k;

	if (p == NULL)
		return false;
	w = p + 10;
	n = len - (size_t)(w - m);
	if (STARTS(w, n, "RCPT "))
		out->phase = MAILLOG_PHASE_RCPT;
	else if (STARTS(w, n, "MAIL "))
		out->phase = MAILLOG_PHASE_MAIL;
	else if (STARTS(w, n, "after DATA"))
		out->phase = MAILLOG_PHASE_EOM;
	else if (STARTS(w, n, "EHLO") || STARTS(w, n, "HELO"))
		out->phase = MAILLOG_PHASE_HELO;
	else if (STARTS(w, n, "connection"))
		out->phase = MAILLOG_PHASE_CONNECT;
	else {
		/* another command: ATRN, ETRN, VRFY, EXPN, AUTH, DATA ... */
		for (k = 0; k < n && w[k] >= 'A' && w[k] <= 'Z'; k++)
			continue;
		if (k < 4 || k > 8 || (k < n && w[k] != ' ' && w[k] != ':'))
			return false;
		out->phase = tag_is(w, k, "DATA") || tag_is(w, k, "BDAT") ?
		    MAILLOG_PHASE_DATA : MAILLOG_PHASE_NONE;
	}
	for (r = w; (r = FIND(r, n - (size_t)(r - w), ": ")) != NULL; r += 2)
		if (code_at(r + 2, n - (size_t)(r + 2 - w)))
			break;
	if (r == NULL)
		return false;
	out->reply = r + 2;
	out->reply_len = len - (size_t)(out->reply - m);
	out->has_code = true;
	out->dir = MAILLOG_DIR_LOCAL;
	return true;
}

/*
 * A callout's answer: "... : NAME [IP] : response to "RCPT TO:<b>" was:
 * 550 ..." (the host written before it, when Exim wrote one; H= on such
 * a line is the client, not the host called).
 */
static bool exim_callout(const char *m, size_t len, const char *p,
			 struct maillog_reply *out)
{
	const char *a = p + 13, *q, *r;

	q = FIND(a, len - (size_t)(a - m), "\" was: ");
	if (q == NULL)
		return false;
	r = q + 7;
	if (!exim_reply(r, len - (size_t)(r - m), false, out))
		return false;
	out->dir = MAILLOG_DIR_REMOTE;
	out->phase = exim_phase(a, (size_t)(q - a));
	exim_host_before(m, p, out);
	return true;
}

/* "X authenticator failed for H [ip]: 535 ..." (this server's answer to
 * its client's AUTH) and "X authenticator failed H=mx [ip] 535 ..." (a
 * peer's answer to this server's AUTH). */
static bool exim_auth(const char *m, size_t len, const char *p,
		      struct maillog_reply *out)
{
	const char *a = p + 22, *r, *e;
	size_t n = len - (size_t)(a - m);

	out->phase = MAILLOG_PHASE_NONE;
	if (STARTS(a, n, "for ")) {
		for (r = a; (r = FIND(r, n - (size_t)(r - a), ": ")) != NULL;
		    r += 2)
			if (code_at(r + 2, n - (size_t)(r + 2 - a)))
				break;
		if (r == NULL)
			return false;
		out->dir = MAILLOG_DIR_LOCAL;
		return exim_reply(r + 2, len - (size_t)(r + 2 - m), false, out);
	}
	if (!STARTS(a, n, "H="))
		return false;
	e = memchr(a, ']', n);
	if (e == NULL || e + 2 > m + len || e[1] != ' ')
		return false;
	out->dir = MAILLOG_DIR_REMOTE;
	if (!exim_reply(e + 2, len - (size_t)(e + 2 - m), false, out))
		return false;
	exim_name_ip(a + 2, e + 1, out);
	return true;
}

/* "=> b R=.. T=.. H=mx [ip] ... C="250 2.0.0 Ok"": the peer's success. */
static bool exim_success(const char *m, size_t len, struct maillog_reply *out)
{
	const char *c = FIND(m, len, " C=\""), *r;
	size_t n;

	if (c == NULL || !(STARTS(m, len, "=> ") || FIND(m, (size_t)(c - m),
	    " => ") != NULL || FIND(m, (size_t)(c - m), " -> ") != NULL))
		return false;
	r = c + 4;
	n = len - (size_t)(r - m);
	if (n < 2 || r[n - 1] != '"' || !code_at(r, n - 1) || r[0] != '2')
		return false;
	remote_success(out, r, n - 1);
	exim_peer_h(m, (size_t)(c - m), out);
	return true;
}

static bool exim_line(const char *m, size_t len, unsigned flags,
		      struct maillog_reply *out)
{
	static const char marker[] = "SMTP error from remote mail server after ";
	const char *p = FIND(m, len, marker), *a, *r, *h;
	size_t n;

	if (p == NULL) {
		/* "LMTP error after RCPT TO:<b>: 550 ...", and "... after
		 * DATA: 452 ..." for the reply an LMTP server (or PRDR) gives
		 * each recipient after the final dot: END-OF-MESSAGE */
		if (((p = FIND(m, len, "LMTP error after ")) != NULL ||
		    (p = FIND(m, len, "PRDR error after ")) != NULL) &&
		    !(p > m && p[-1] == '"')) {
			if (!exim_after(m, len, p, 17, false, out))
				return false;
			if (out->phase == MAILLOG_PHASE_DATA)
				out->phase = MAILLOG_PHASE_EOM;
			return true;
		}
		/* "H=mx [ip]: Malformed SMTP reply in response to end of
		 * data: TEXT" (then repeated on each address's line) */
		if ((p = FIND(m, len, "Malformed SMTP reply in response to ")) !=
		    NULL) {
			out->conn_error = true;
			out->repeat = exim_delivery_line(m, (size_t)(p - m));
			return exim_after(m, len, p, 36, true, out);
		}
		/* "Remote host closed connection in response to X (EHLO
		 * response was: 550 ...)" (then repeated likewise) */
		if ((p = FIND(m, len, "(EHLO response was: ")) != NULL) {
			r = p + 20;
			n = len - (size_t)(r - m);
			if (n == 0 || r[n - 1] != ')' ||
			    !exim_reply(r, n - 1, false, out))
				return false;
			out->dir = MAILLOG_DIR_REMOTE;
			out->phase = MAILLOG_PHASE_HELO;
			out->conn_error = true;
			out->repeat = exim_delivery_line(m, (size_t)(p - m));
			exim_peer_h(m, (size_t)(p - m), out);
			return true;
		}
		if ((p = FIND(m, len, "response to \"")) != NULL)
			return exim_callout(m, len, p, out);
		if ((p = FIND(m, len, " authenticator failed ")) != NULL)
			return exim_auth(m, len, p, out);
		if ((flags & MAILLOG_WANT_SUCCESS) && exim_success(m, len, out))
			return true;
		return exim_local(m, len, out);
	}
	/* A copy of a delivery line's message written by an event action
	 * (${logwrite:... "$message"}...): the delivery line counted it */
	if (p > m && (p[-1] == '"' || p[-1] == '\''))
		return false;
	a = p + sizeof(marker) - 1;
	n = len - (size_t)(a - m);
	/* the reply follows the first ": " that a code follows */
	for (r = a; (r = FIND(r, n - (size_t)(r - a), ": ")) != NULL; r += 2)
		if (code_at(r + 2, n - (size_t)(r + 2 - a)))
			break;
	if (r == NULL)
		return false;
	out->phase = exim_phase(a, (size_t)(r - a));
	out->reply = r + 2;
	out->reply_len = len - (size_t)(out->reply - m);
	out->has_code = true;
	out->dir = MAILLOG_DIR_REMOTE;
	/* a callout: "rejected RCPT <b>: NAME [IP] : SMTP error from ...",
	 * the host called written before (H= would be the client) */
	if (exim_host_before(m, p, out))
		return true;
	/* Exim up to 4.7x: "...: host NAME [IP]: 550 ..." inside the text */
	h = FIND(a, (size_t)(r - a), ": host ");
	if (h != NULL && exim_name_ip(h + 7, r, out)) {
		out->phase = exim_phase(a, (size_t)(h - a));
		return true;
	}
	/* " H=mx.example.com [192.0.2.1]" (also "H=mx [ip]:port") */
	exim_peer_h(m, (size_t)(p - m), out);
	return true;
}

/* ---- the entry point ---------------------------------------------------- */

bool maillog_parse_line(const char *line, size_t len, struct maillog_reply *out)
{
	return maillog_parse_line_with(line, len, 0, out);
}

bool maillog_parse_line_with(const char *line, size_t len, unsigned flags,
			     struct maillog_reply *out)
{
	struct header h;
	bool ok;

	if (!parse_header(line, len, &h))
		return false;
	memset(out, 0, offsetof(struct maillog_reply, peer));
	out->peer[0] = '\0';
	out->dir = MAILLOG_DIR_LOCAL;
	out->stamp = h.stamp;
	out->stamp_len = h.stamp_len;
	out->line = line;
	out->line_len = len;
	out->proc = h.proc;
	out->proc_len = h.proc_len;
	if (h.exim_native) {
		out->source = MAILLOG_SRC_EXIM;
		ok = exim_line(h.msg, h.msg_len, flags, out);
	} else switch (classify_tag(h.tag, h.tag_len)) {
	case TAG_POSTFIX_SMTPD:
		out->source = MAILLOG_SRC_POSTFIX_SMTPD;
		ok = postfix_reject(h.msg, h.msg_len, false, flags, out);
		break;
	case TAG_POSTFIX_CLEANUP:
		out->source = MAILLOG_SRC_POSTFIX_CLEANUP;
		ok = postfix_reject(h.msg, h.msg_len, true, flags, out);
		break;
	case TAG_POSTFIX_SMTP:
		out->source = MAILLOG_SRC_POSTFIX_SMTP;
		ok = postfix_smtp(h.msg, h.msg_len, flags, out);
		break;
	case TAG_SENDMAIL:
		out->source = MAILLOG_SRC_SENDMAIL;
		ok = sendmail_line(h.msg, h.msg_len, out);
		break;
	case TAG_EXIM:
		out->source = MAILLOG_SRC_EXIM;
		ok = exim_line(h.msg, h.msg_len, flags, out);
		break;
	default:
		ok = false;
		break;
	}
	/* A CR LF log: the CR is no part of the reply. */
	if (ok && out->reply_len > 0 && out->reply[out->reply_len - 1] == '\r')
		out->reply_len--;
	return ok && out->reply_len > 0;
}

/* ---- names, phases ---------------------------------------------------------- */

static const char *const phase_names[MAILLOG_PHASE__COUNT] = {
	"-", "CONNECT", "HELO", "MAIL", "RCPT", "DATA", "END-OF-MESSAGE"
};

const char *maillog_phase_name(enum maillog_phase p)
{
	return (unsigned)p < MAILLOG_PHASE__COUNT ? phase_names[p] : "-";
}

const char *maillog_direction_name(enum maillog_direction d)
{
	return d == MAILLOG_DIR_REMOTE ? "remote" : "local";
}

enum sr_phase maillog_phase_sr(enum maillog_phase p)
{
	switch (p) {
	case MAILLOG_PHASE_CONNECT:	return SR_PHASE_CONNECT;
	case MAILLOG_PHASE_HELO:	return SR_PHASE_HELO;
	case MAILLOG_PHASE_MAIL:	return SR_PHASE_MAIL;
	case MAILLOG_PHASE_RCPT:	return SR_PHASE_RCPT;
	case MAILLOG_PHASE_DATA:	return SR_PHASE_DATA;
	case MAILLOG_PHASE_EOM:	return SR_PHASE_EOM;
	default:		return SR_PHASE_OTHER;
	}
}

/* ---- multi-line replies ------------------------------------------------------- */

size_t maillog_reply_wire(const char *reply, size_t len, char *buf, size_t size)
{
	size_t i = 0, o = 0;
	bool multi = len >= 4 && code_at(reply, len) && reply[3] == '-';

	/* The common case: one line, nothing to rebuild. */
	if (!multi && FIND(reply, len, "??") == NULL &&
	    memchr(reply, '\\', len) == NULL) {
		o = len < size ? len : size;
		memcpy(buf, reply, o);
		return o;
	}

	while (i < len && o < size) {
		/* sendmail: CR LF logged as "\r\n", Exim: LF as "\n" */
		if (reply[i] == '\\' && i + 3 < len && reply[i + 1] == 'r' &&
		    reply[i + 2] == '\\' && reply[i + 3] == 'n' &&
		    code_at(reply + i + 4, len - i - 4) && o + 2 <= size) {
			buf[o++] = '\r';
			buf[o++] = '\n';
			i += 4;
			multi = i + 3 < len && reply[i + 3] == '-';
			continue;
		}
		if (reply[i] == '\\' && i + 1 < len && reply[i + 1] == 'n' &&
		    code_at(reply + i + 2, len - i - 2) && o + 2 <= size) {
			buf[o++] = '\r';
			buf[o++] = '\n';
			i += 2;
			multi = i + 3 < len && reply[i + 3] == '-';
			continue;
		}
		/* Postfix smtpd: CR LF logged as "??" */
		if (i + 2 < len && reply[i] == '?' && reply[i + 1] == '?' &&
		    code_at(reply + i + 2, len - i - 2) && o + 2 <= size) {
			buf[o++] = '\r';
			buf[o++] = '\n';
			i += 2;
			continue;
		}
		/* joined with a blank: " 550-..." / " 550 ..." after a "550-" */
		if (multi && reply[i] == ' ' && i + 4 < len &&
		    memcmp(reply + i + 1, reply, 3) == 0 &&
		    (reply[i + 4] == '-' || reply[i + 4] == ' ') && o + 2 <= size) {
			buf[o++] = '\r';
			buf[o++] = '\n';
			i++;
			multi = reply[i + 3] == '-';
			continue;
		}
		buf[o++] = reply[i++];
	}
	return o;
}

/* ---- time ------------------------------------------------------------------------ */

static int num(const char *p, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!is_digit(p[i]))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

static uint64_t key(int y, int mo, int d, int h, int mi, int s)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 60)
		return 0;
	if (mo == 2 && d == 29 && y > 0 && (y % 4 != 0 ||
	    (y % 100 == 0 && y % 400 != 0)))
		return 0;
	return ((((((uint64_t)y * 100 + (uint64_t)mo) * 100 + (uint64_t)d) * 100 +
	    (uint64_t)h) * 100 + (uint64_t)mi) * 100) + (uint64_t)s;
}

uint64_t maillog_time_key(const char *p, size_t len, int default_year)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int mo, d;

	size_t t = classic_time_at(p, len);

	if (t > 0 && len >= t + 8 && p[t + 2] == ':') {
		for (mo = 0; mo < 12; mo++)
			if (memcmp(p, months + 3 * mo, 3) == 0)
				break;
		d = p[4] == ' ' ? num(p + 5, 1) : t == 6 ? num(p + 4, 1) :
		    num(p + 4, 2);
		return key(default_year, mo + 1, d, num(p + t, 2),
		    num(p + t + 3, 2), num(p + t + 6, 2));
	}
	if (len >= 19 && p[4] == '-' && p[7] == '-' && (p[10] == 'T' ||
	    p[10] == ' ') && p[13] == ':' && p[16] == ':')
		return key(num(p, 4), num(p + 5, 2), num(p + 8, 2),
		    num(p + 11, 2), num(p + 14, 2), num(p + 17, 2));
	return 0;
}

int64_t maillog_time_seconds(uint64_t k)
{
	int64_t s = (int64_t)(k % 100), mi = (int64_t)(k / 100 % 100),
	    h = (int64_t)(k / 10000 % 100), d = (int64_t)(k / 1000000 % 100),
	    m = (int64_t)(k / 100000000 % 100), y = (int64_t)(k / 10000000000ULL);
	int64_t era, yoe, doy, doe;

	if (k == 0)
		return 0;
	/* days from civil (H. Hinnant's algorithm) */
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return ((era * 146097 + doe - 719468) * 24 + h) * 3600 + mi * 60 + s;
}

uint64_t maillog_time_arg(const char *a, bool end)
{
	size_t n = strlen(a);
	int y, mo, d, h = 0, mi = 0, s = 0;

	if (n < 10 || a[4] != '-' || a[7] != '-')
		return 0;
	y = num(a, 4);
	mo = num(a + 5, 2);
	d = num(a + 8, 2);
	if (n == 10) {
		if (end) {
			h = 23;
			mi = 59;
			s = 59;
		}
	} else if ((n == 16 || n == 19) && (a[10] == 'T' || a[10] == ' ') &&
	    a[13] == ':') {
		h = num(a + 11, 2);
		mi = num(a + 14, 2);
		if (n == 19) {
			if (a[16] != ':')
				return 0;
			s = num(a + 17, 2);
		} else if (end)
			s = 59;
	} else {
		return 0;
	}
	if (y < 1)
		return 0;
	return key(y, mo, d, h, mi, s);
}
