/*
 * SPDX-License-Identifier: ISC
 * mclient.h - the MTA side of the milter protocol (version 6), pure logic.
 *
 * libmilter implements only the filter side. When smtpreply-milter runs
 * other milters ("children") behind it, it plays the MTA towards each of
 * them. This module holds everything of that role that is not a socket:
 *
 *  - the encoder of the packets an MTA sends (SMFIC_*), each appended to
 *    a growing buffer: 4-byte big-endian length, command byte, data;
 *  - an incremental reader that cuts a byte stream into packets, with a
 *    bound on the length (a child announcing more is broken, not trusted);
 *  - the decoder of a child's packets (SMFIR_*) into a checked structure:
 *    every string NUL-terminated inside the packet, no trailing bytes,
 *    indexes and lengths bounded;
 *  - option negotiation (what the child asks must be a subset of what was
 *    offered; its SMFIR_SETSYMLIST macro lists);
 *  - the per-child state machine: which steps are sent to the child (not
 *    the ones it declined with SMFIP_NO*, nothing after it accepted or
 *    rejected the connection or the message, no body after SMFIR_SKIP),
 *    which ones expect a reply (SMFIP_NR_*), and whether a reply fits the
 *    step it answers (modifications, progress and quarantine at end of
 *    message only, and only when the action was negotiated; SKIP only for
 *    a body chunk and only when negotiated).
 *
 * Nothing here does I/O, allocates behind the caller's back except the
 * growing buffer, or keeps global state: it is driven from byte sequences
 * in the unit tests and the fuzzer.
 */
#ifndef SMTPREPLY_MILTER_MCLIENT_H
#define SMTPREPLY_MILTER_MCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libmilter/mfapi.h>	/* SMFIF_* values (constants only) */
#include <libmilter/mfdef.h>	/* SMFIC_*, SMFIR_*, SMFIP_* values */

#define MCLIENT_VERSION		6	/* protocol version spoken */
/* Longest packet accepted from a child (command byte included): libmilter
 * sends at most 1 MiB of data (SMFIP_MDS_1M); anything longer is broken. */
#define MCLIENT_PACKET_MAX	(1024u * 1024u + 1u)
#define MCLIENT_BODY_CHUNK	65535u	/* body bytes per SMFIC_BODY */
/* Macro names one child gets per step: sendmail's bound per stage and
 * milter (MAXFILTERMACROS; symlist.h SYMLIST_NAMES_MAX) and more than the
 * two MTAs' default lists of any stage together. */
#define MCLIENT_MACROS_MAX	50

/* Every action and protocol step this MTA side can offer a child. */
#define MCLIENT_ACTIONS_ALL	(SMFIF_ADDHDRS | SMFIF_CHGBODY | \
	SMFIF_ADDRCPT | SMFIF_DELRCPT | SMFIF_CHGHDRS | SMFIF_QUARANTINE | \
	SMFIF_CHGFROM | SMFIF_ADDRCPT_PAR | SMFIF_SETSYMLIST)
#define MCLIENT_PROTOCOL_ALL	(SMFIP_NOCONNECT | SMFIP_NOHELO | \
	SMFIP_NOMAIL | SMFIP_NORCPT | SMFIP_NOBODY | SMFIP_NOHDRS | \
	SMFIP_NOEOH | SMFIP_NR_HDR | SMFIP_NOUNKNOWN | SMFIP_NODATA | \
	SMFIP_SKIP | SMFIP_RCPT_REJ | SMFIP_NR_CONN | SMFIP_NR_HELO | \
	SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_DATA | SMFIP_NR_UNKN | \
	SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_HDR_LEADSPC)

/* ---- a growing output buffer ------------------------------------------ */

struct mclient_buf {
	unsigned char *p;
	size_t len;
	size_t cap;
	bool failed;		/* memory ran out: the content is incomplete */
};

void mclient_buf_init(struct mclient_buf *b);
void mclient_buf_reset(struct mclient_buf *b);	/* len 0, keeps memory */
void mclient_buf_free(struct mclient_buf *b);

/* ---- the steps -------------------------------------------------------- */

enum mclient_step {
	MCLIENT_STEP_CONNECT,
	MCLIENT_STEP_HELO,
	MCLIENT_STEP_MAIL,
	MCLIENT_STEP_RCPT,
	MCLIENT_STEP_DATA,
	MCLIENT_STEP_UNKNOWN,
	MCLIENT_STEP_HEADER,
	MCLIENT_STEP_EOH,
	MCLIENT_STEP_BODY,
	MCLIENT_STEP_EOM,
	MCLIENT_STEP__COUNT
};

const char *mclient_step_name(enum mclient_step st);

/* The SMFIM_* index of the macro list sent before STEP, or -1 (none). */
int mclient_step_macro_index(enum mclient_step st);
#define MCLIENT_MACRO_LISTS 7	/* SMFIM_CONNECT .. SMFIM_EOH */

/* ---- the encoder (MTA -> child) --------------------------------------- */

/*
 * Each appends one packet to B; on a memory failure B->failed is set and
 * the call returns -1 (0 otherwise). Strings are sent up to their NUL;
 * a string that would make the packet longer than MCLIENT_PACKET_MAX is
 * refused (-1, B unchanged).
 */
int mclient_put_optneg(struct mclient_buf *b, uint32_t version,
		       uint32_t actions, uint32_t protocol);
/* SMFIC_MACRO for command CMD ('C', 'H', 'M', 'R', 'T', 'N', 'E'):
 * N name/value pairs; pairs whose value is NULL are left out. */
int mclient_put_macros(struct mclient_buf *b, char cmd,
		       const char *const *names, const char *const *values,
		       size_t n);
/* FAMILY: SMFIA_INET, SMFIA_INET6, SMFIA_UNIX or SMFIA_UNKNOWN (then port
 * and addr are not sent). */
int mclient_put_connect(struct mclient_buf *b, const char *hostname,
			char family, uint16_t port, const char *addr);
int mclient_put_helo(struct mclient_buf *b, const char *helo);
/* MAIL / RCPT: the address then its ESMTP arguments, each NUL-ended. */
int mclient_put_mail(struct mclient_buf *b, const char *const *argv,
		     size_t argc);
int mclient_put_rcpt(struct mclient_buf *b, const char *const *argv,
		     size_t argc);
int mclient_put_data(struct mclient_buf *b);
int mclient_put_unknown(struct mclient_buf *b, const char *line);
/* A header; LEADSPC: prefix the value with the space that followed the
 * colon (for a child that negotiated SMFIP_HDR_LEADSPC). */
int mclient_put_header(struct mclient_buf *b, const char *name,
		       const char *value, bool leadspc);
int mclient_put_eoh(struct mclient_buf *b);
/* LEN must be at most MCLIENT_BODY_CHUNK (else -1). */
int mclient_put_body(struct mclient_buf *b, const void *chunk, size_t len);
int mclient_put_eom(struct mclient_buf *b);
int mclient_put_abort(struct mclient_buf *b);
int mclient_put_quit(struct mclient_buf *b);

/* ---- the reader (child -> MTA) ---------------------------------------- */

/*
 * Cuts a byte stream into packets. Feed it what the socket gave, then
 * take packets until it has none complete. The data of a packet taken
 * stays valid until the next feed or take.
 */
struct mclient_reader {
	unsigned char *p;
	size_t len;		/* bytes held */
	size_t off;		/* start of the next packet */
	size_t cap;
	size_t max;		/* packet length bound */
	bool broken;		/* a length over the bound or zero */
};

void mclient_reader_init(struct mclient_reader *r, size_t max);
void mclient_reader_free(struct mclient_reader *r);
/* Append N bytes. -1 when memory ran out. */
int mclient_reader_feed(struct mclient_reader *r, const void *data, size_t n);

enum mclient_take {
	MCLIENT_TAKE_PACKET,	/* *CMD, *DATA, *LEN set */
	MCLIENT_TAKE_NEED_MORE,	/* no complete packet yet */
	MCLIENT_TAKE_BROKEN	/* zero or over-long length: give up */
};

enum mclient_take mclient_reader_take(struct mclient_reader *r, char *cmd,
				      const unsigned char **data, size_t *len);

/* How many bytes are held that do not yet make a packet. */
size_t mclient_reader_pending(const struct mclient_reader *r);

/* ---- negotiation ------------------------------------------------------ */

struct mclient_neg {
	uint32_t version;
	uint32_t actions;
	uint32_t protocol;
	/* SMFIR_SETSYMLIST: per SMFIM_* list, the names asked for (views
	 * into the packet are not kept: copied, space-separated). */
	bool has_symlist[MCLIENT_MACRO_LISTS];
	char symlist[MCLIENT_MACRO_LISTS][512];
};

/*
 * Decode the child's SMFIC_OPTNEG answer DATA[0..LEN) and check it
 * against what was OFFERED (actions, protocol): version 2..6 accepted
 * (older children fill v2 defaults), actions and steps asked must be a
 * subset of the offer. Returns 0, or -1 with a reason in ERR.
 */
int mclient_decode_optneg(const unsigned char *data, size_t len,
			  uint32_t offered_actions,
			  uint32_t offered_protocol, struct mclient_neg *out,
			  char *err, size_t errsize);

/* ---- a child's replies ------------------------------------------------ */

enum mclient_reply_kind {
	MCLIENT_R_CONTINUE,
	MCLIENT_R_ACCEPT,
	MCLIENT_R_REJECT,
	MCLIENT_R_TEMPFAIL,
	MCLIENT_R_DISCARD,
	MCLIENT_R_REPLYCODE,	/* text: the reply as sent ("550 5.7.1 ...") */
	MCLIENT_R_SKIP,
	MCLIENT_R_PROGRESS,
	MCLIENT_R_SHUTDOWN,	/* 421 and close (treated as tempfail) */
	MCLIENT_R_CONN_FAIL,	/* drop the connection (treated as tempfail) */
	MCLIENT_R_QUARANTINE,	/* text: the reason */
	MCLIENT_R_ADDHEADER,	/* name, value */
	MCLIENT_R_INSHEADER,	/* index, name, value */
	MCLIENT_R_CHGHEADER,	/* index, name, value ("" deletes) */
	MCLIENT_R_ADDRCPT,	/* text: the address */
	MCLIENT_R_ADDRCPT_PAR,	/* text, args (may be NULL) */
	MCLIENT_R_DELRCPT,	/* text */
	MCLIENT_R_CHGFROM,	/* text, args (may be NULL) */
	MCLIENT_R_REPLBODY,	/* body, body_len */
	MCLIENT_R__COUNT
};

const char *mclient_reply_name(enum mclient_reply_kind k);

/* Views into the packet the reply was decoded from. */
struct mclient_reply {
	enum mclient_reply_kind kind;
	const char *text;	/* REPLYCODE, QUARANTINE, address of *RCPT/CHGFROM */
	const char *args;	/* ESMTP args of ADDRCPT_PAR / CHGFROM, or NULL */
	const char *name;	/* header name */
	const char *value;	/* header value */
	uint32_t index;		/* INSHEADER / CHGHEADER */
	const unsigned char *body;
	size_t body_len;
};

/*
 * Decode one packet of a child (command CMD, DATA[0..LEN)). Returns 0,
 * or -1 with a reason in ERR (unknown command, missing NUL, trailing
 * bytes, empty header name, a REPLYCODE that is not "[45]xx ..." ...).
 */
int mclient_decode_reply(char cmd, const unsigned char *data, size_t len,
			 struct mclient_reply *out, char *err,
			 size_t errsize);

/* True for the modifications (ADDHEADER .. REPLBODY, QUARANTINE). */
bool mclient_reply_is_modification(enum mclient_reply_kind k);

/* ---- the per-child state machine -------------------------------------- */

struct mclient_state {
	uint32_t actions;	/* as negotiated */
	uint32_t protocol;
	bool negotiated;
	bool conn_done;		/* the child accepted/rejected the connection */
	bool msg_done;		/* ... the message (until the next MAIL) */
	bool skip_body;		/* SMFIR_SKIP received for this message */
	bool failed;		/* protocol broken, timed out: never trusted */
};

/* A fresh state after a successful negotiation NEG. */
void mclient_state_init(struct mclient_state *s, const struct mclient_neg *neg);

/* Is STEP sent to the child at all? (negotiated, not declined, not done) */
bool mclient_state_sends(const struct mclient_state *s, enum mclient_step st);

/* Does the child answer STEP? (not an SMFIP_NR_* step) */
bool mclient_state_expects_reply(const struct mclient_state *s,
				 enum mclient_step st);

/* A new message starts (MAIL): message-level flags reset. */
void mclient_state_new_message(struct mclient_state *s);

enum mclient_verdict_use {
	MCLIENT_USE_FINAL,	/* the reply ends the step */
	MCLIENT_USE_MORE,	/* a modification or progress: read on */
	MCLIENT_USE_VIOLATION	/* does not fit: the child is broken */
};

/*
 * Judge reply R received for STEP and update the state (accept/reject
 * at connect or helo ends the connection for the child; at a message
 * step, the message; skip stops the body). ERR says why on a violation.
 */
enum mclient_verdict_use mclient_state_reply(struct mclient_state *s,
					     enum mclient_step st,
					     const struct mclient_reply *r,
					     char *err, size_t errsize);

#endif /* SMTPREPLY_MILTER_MCLIENT_H */
