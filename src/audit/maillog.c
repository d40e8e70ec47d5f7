/*
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
 *  Exim (its own main log, or through syslog):
 *   ... H=mx.example.com [ip]: SMTP error from remote mail server after
 *       RCPT TO:<b>: 550 5.1.1 text
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

/* A token that starts like an enhanced code: "5.7.1 ..." (a digit, a dot). */
static bool enhanced_at(const char *p, size_t len)
{
	return len >= 2 && is_digit(p[0]) && p[1] == '.';
}

/* ---- the line header ---------------------------------------------------- */

struct header {
	const char *stamp;
	size_t stamp_len;
	const char *tag;	/* "postfix/smtpd" (without "[pid]") */
	size_t tag_len;
	const char *msg;	/* after "tag[pid]: " */
	size_t msg_len;
	bool exim_native;	/* Exim's own log: no host, no tag */
};

/*
 * "Dec  1 19:57:01", "Dec 01 19:57:01", and with a fraction of a second
 * ("Dec 01 19:57:01.123456", journalctl -o short-precise): the length of
 * the stamp, or 0.
 */
static size_t classic_stamp(const char *p, size_t len)
{
	size_t i = 15;

	if (!(len >= 16 && p[3] == ' ' && (p[4] == ' ' || is_digit(p[4])) &&
	    is_digit(p[5]) && p[6] == ' ' && is_digit(p[7]) && p[9] == ':' &&
	    p[12] == ':'))
		return 0;
	if (p[15] == '.')
		for (i = 16; i < len && is_digit(p[i]); i++)
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

static bool parse_header(const char *p, size_t len, struct header *h)
{
	size_t i;
	const char *sp, *colon;

	memset(h, 0, sizeof(*h));
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
	} else if (iso_date(p, len) && p[10] == ' ' && p[16] == ':' &&
	    p[19] == ' ') {
		/* Exim's main log: "2026-12-01 19:57:01 [pid] id ..." */
		h->stamp = p;
		h->stamp_len = 19;
		h->msg = p + 20;
		h->msg_len = len - 20;
		h->exim_native = true;
		return true;
	} else {
		return false;
	}
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
	h->msg = colon + 2;
	h->msg_len = len - (size_t)(h->msg - p);
	return true;
}

enum tag_kind {
	TAG_OTHER,
	TAG_POSTFIX_SMTPD,	/* smtpd, postscreen */
	TAG_POSTFIX_CLEANUP,
	TAG_POSTFIX_SMTP,	/* smtp, lmtp */
	TAG_SENDMAIL,
	TAG_EXIM
};

static bool tag_is(const char *t, size_t n, const char *s)
{
	size_t k = strlen(s);

	return n == k && memcmp(t, s, k) == 0;
}

static enum tag_kind classify_tag(const char *t, size_t n)
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

/* "QID: reject: PHASE from CLIENT: REPLY; from=<..." (smtpd, cleanup). */
static bool postfix_reject(const char *m, size_t len, bool cleanup,
			   struct maillog_reply *out)
{
	const char *r, *sp, *c;
	size_t n, k;

	if ((r = after_qid(m, len, &n)) == NULL)
		return false;
	if (STARTS(r, n, "reject: "))
		k = 8;
	else if (!cleanup && STARTS(r, n, "reject_warning: "))
		k = 16;
	else if (STARTS(r, n, "milter-reject: "))
		k = 15;
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
	if (!code_at(r, n) && !cleanup)
		return false;
	if (cleanup && n == 0)
		return false;
	out->reply = r;
	out->reply_len = postfix_reply_end(r, n);
	out->has_code = code_at(r, n);
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

/*
 * "host H[ip] said: REPLY (in reply to X command)" (smtp, lmtp), also
 * "refused to talk to me: REPLY", "refused to start TLS: REPLY" and
 * "SASL authentication failed; server H[ip] said: REPLY". The peer is
 * "host H" or "server H" where the client's own report puts it: in the
 * status's parenthesis, first in the message, after "; " or "but "; not
 * in "delivery temporarily suspended: host H ...", which repeats a reply
 * already logged for every message queued behind it.
 */
static bool postfix_smtp(const char *m, size_t len, struct maillog_reply *out)
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
		return false;
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
	if (!code_at(r, n))
		return false;
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
		if (!code_at(p, n))
			return false;
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
		if (!code_at(s, n))
			return false;	/* "Connection timed out": no reply */
	} else if (STARTS(s, n, "Deferred") || STARTS(s, n, "Sent")) {
		return false;	/* no reply received, or a success */
	}
	if (code_at(s, n)) {
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
	if (STARTS(a, n, "RCPT TO"))
		return MAILLOG_PHASE_RCPT;
	if (STARTS(a, n, "MAIL FROM"))
		return MAILLOG_PHASE_MAIL;
	if (STARTS(a, n, "end of data"))
		return MAILLOG_PHASE_EOM;
	if (STARTS(a, n, "DATA") || STARTS(a, n, "pipelined DATA"))
		return MAILLOG_PHASE_DATA;
	if (STARTS(a, n, "initial connection"))
		return MAILLOG_PHASE_CONNECT;
	if (STARTS(a, n, "EHLO") || STARTS(a, n, "HELO"))
		return MAILLOG_PHASE_HELO;
	if (STARTS(a, n, "pipelined RCPT"))
		return MAILLOG_PHASE_RCPT;
	if (STARTS(a, n, "pipelined MAIL"))
		return MAILLOG_PHASE_MAIL;
	return MAILLOG_PHASE_NONE;
}

/*
 * This server's rejects, when their text starts with a code:
 * "H=(helo) [ip] F=<a> rejected RCPT <b>: 550 5.7.1 text",
 * "... rejected after DATA: 550 ...". Without a code they are no reply.
 */
static bool exim_local(const char *m, size_t len, struct maillog_reply *out)
{
	const char *p = FIND(m, len, " rejected "), *w, *r;
	size_t n;

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
	else
		return false;
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

static bool exim_line(const char *m, size_t len, struct maillog_reply *out)
{
	static const char marker[] = "SMTP error from remote mail server after ";
	const char *p = FIND(m, len, marker), *a, *r, *h, *e, *b;
	size_t n;

	if (p == NULL)
		return exim_local(m, len, out);
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
	/* Exim up to 4.7x: "...: host NAME [IP]: 550 ..." inside the text */
	h = FIND(a, (size_t)(r - a), ": host ");
	if (h != NULL) {
		const char *name = h + 7, *b2 = memchr(name, '[', (size_t)(r - name));
		const char *c2 = b2 != NULL ? memchr(b2, ']', (size_t)(r - b2)) : NULL;

		if (b2 != NULL && c2 != NULL) {
			const char *ne = b2;

			while (ne > name && ne[-1] == ' ')
				ne--;
			set_peer(out, name, (size_t)(ne - name), b2 + 1,
			    (size_t)(c2 - b2 - 1));
			out->phase = exim_phase(a, (size_t)(h - a));
			return true;
		}
	}
	/* " H=mx.example.com [192.0.2.1]" (also "H=mx [ip]:port") */
	h = FIND(m, (size_t)(p - m), " H=");
	if (h != NULL) {
		h += 3;
		e = p;
		b = memchr(h, '[', (size_t)(e - h));
		if (b != NULL) {
			const char *c = memchr(b, ']', (size_t)(e - b));
			const char *ne = b;

			while (ne > h && ne[-1] == ' ')
				ne--;
			if (c != NULL)
				set_peer(out, h, (size_t)(ne - h), b + 1,
				    (size_t)(c - b - 1));
		} else {
			const char *sp = memchr(h, ' ', (size_t)(e - h));

			set_peer(out, h, (size_t)((sp != NULL ? sp : e) - h),
			    NULL, 0);
		}
	}
	return true;
}

/* ---- the entry point ---------------------------------------------------- */

bool maillog_parse_line(const char *line, size_t len, struct maillog_reply *out)
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
	if (h.exim_native) {
		out->source = MAILLOG_SRC_EXIM;
		return exim_line(h.msg, h.msg_len, out);
	}
	switch (classify_tag(h.tag, h.tag_len)) {
	case TAG_POSTFIX_SMTPD:
		out->source = MAILLOG_SRC_POSTFIX_SMTPD;
		ok = postfix_reject(h.msg, h.msg_len, false, out);
		break;
	case TAG_POSTFIX_CLEANUP:
		out->source = MAILLOG_SRC_POSTFIX_CLEANUP;
		ok = postfix_reject(h.msg, h.msg_len, true, out);
		break;
	case TAG_POSTFIX_SMTP:
		out->source = MAILLOG_SRC_POSTFIX_SMTP;
		ok = postfix_smtp(h.msg, h.msg_len, out);
		break;
	case TAG_SENDMAIL:
		out->source = MAILLOG_SRC_SENDMAIL;
		ok = sendmail_line(h.msg, h.msg_len, out);
		break;
	case TAG_EXIM:
		out->source = MAILLOG_SRC_EXIM;
		ok = exim_line(h.msg, h.msg_len, out);
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

	if (len >= 15 && p[3] == ' ' && p[9] == ':') {
		for (mo = 0; mo < 12; mo++)
			if (memcmp(p, months + 3 * mo, 3) == 0)
				break;
		d = p[4] == ' ' ? num(p + 5, 1) : num(p + 4, 2);
		return key(default_year, mo + 1, d, num(p + 7, 2),
		    num(p + 10, 2), num(p + 13, 2));
	}
	if (len >= 19 && p[4] == '-' && p[7] == '-' && (p[10] == 'T' ||
	    p[10] == ' ') && p[13] == ':' && p[16] == ':')
		return key(num(p, 4), num(p + 5, 2), num(p + 8, 2),
		    num(p + 11, 2), num(p + 14, 2), num(p + 17, 2));
	return 0;
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
