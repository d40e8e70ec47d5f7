#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""gen_maillog.py - a synthetic, realistic Postfix 3.7 log of a busy MX + outbound relay.

    gen_maillog.py --lines N [--seed S] [--format syslog|rfc3339] [--gzip] -o FILE

Python 3 standard library only; deterministic for a given (lines, seed, format,
days, start, hostname): the same arguments always give the same bytes (gzip
output too: no file name, mtime 0). FILE "-" is standard output.

What it writes: a mail server "mx" over several days (--days, default 8, from
--start, default 2026-10-28: the end of a month, so that both one- and two-digit
days occur, "Oct 31" and "Nov  1", and all of it in the past), with
a daily rhythm. Sessions of many kinds overlap (a few at a time, as in a real
log) and each one is the sequence Postfix writes for it:

- inbound mail behind postscreen: postscreen CONNECT/PASS OLD/PASS NEW/
  ALLOWLISTED, smtpd connect, TLS, "QID: client=", cleanup message-id, qmgr
  from=/size=/nrcpt=, lmtp (Dovecot), local or virtual delivery, qmgr removed,
  smtpd disconnect with the command counters;
- inbound rejects by smtpd ("NOQUEUE: reject: RCPT from ...", also with a queue
  id, "reject: MAIL", "reject_warning:") for many reasons: user unknown, relay
  access denied, greylisting, DNSBL/RHSBL, HELO, sender domain, reverse DNS,
  SPF, quota, unverified recipient, access maps;
- postscreen: dnsblog "listed by", DNSBL rank, PREGREET, HANGUP, COMMAND
  PIPELINING, the 550 DNSBL / 550 Protocol error / 450 4.3.2 rejects, CONNECT
  rejects (too many connections);
- milters: smtpd "milter-reject: MAIL/RCPT", cleanup "milter-reject:
  END-OF-MESSAGE" (no basic code: "5.7.1 Spam message rejected"), milter-hold,
  milter-discard; cleanup header_checks rejects (": 5.7.1 text" at the end);
- outbound mail (submission with SASL, internal hosts): smtp client TLS,
  status=sent with the remote 250 reply (Gmail, Outlook, Postfix, Exim ...),
  status=bounced/deferred with "host H[ip] said: ... (in reply to ... command)",
  Gmail-style multi-line replies joined on one line, "refused to talk to me",
  connection and DNS failures, retries of deferred mail minutes to hours later,
  expiry, bounce notifications and their delivery;
- noise: anvil and scache statistics, SASL brute force, scanners (lost
  connection, non-SMTP command, improper pipelining, timeouts), "hostname x does
  not resolve to address y" warnings, pickup (cron mail), daily reload.

About 1% of the replies are non-conforming the way real ones are: 557, 571,
572, 5.01.1, 5.7.99 (smtpd keeps these in access-map replies), and, from remote
servers, 550 4.7.1 (class mismatch) and 550 with no enhanced code. The lines
are byte for byte what Postfix 3.7 writes (checked against a real Postfix 3.7.11
for every reply form: smtpd, postscreen, cleanup, smtp/lmtp client). Queue ids
are Postfix's short form: 5 hex digits of microseconds + the inode number in
hex (10-11 characters), unique in the file.

At the end it prints to standard error how many lines of each kind it wrote.
"""

import argparse
import base64
import bisect
import collections
import datetime
import gzip
import heapq
import math
import os
import random
import sys
import time

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

# ---- kinds of lines (what the summary counts) ------------------------------------------
KIND_NAMES = []
KIND_REPLY = []      # True for lines that record an SMTP reply
KIND_NONCONF = []    # True for non-conforming replies


def _kind(name, reply=False, nonconf=False):
    KIND_NAMES.append(name)
    KIND_REPLY.append(reply)
    KIND_NONCONF.append(nonconf)
    return len(KIND_NAMES) - 1


K_PS_CONNECT = _kind("postscreen CONNECT")
K_PS_PASS = _kind("postscreen PASS OLD/NEW, ALLOWLISTED")
K_PS_DNSBL = _kind("postscreen DNSBL rank / dnsblog listed")
K_PS_OTHER = _kind("postscreen PREGREET/HANGUP/PIPELINING/DISCONNECT")
K_PS_REJECT_CONNECT = _kind("postscreen reject: CONNECT (no code)")
K_SMTPD_CONNECT = _kind("smtpd connect")
K_SMTPD_DISCONNECT = _kind("smtpd disconnect")
K_SMTPD_CLIENT = _kind("smtpd QID: client=")
K_SMTPD_TLS = _kind("smtpd TLS established")
K_SMTPD_LOST = _kind("smtpd lost connection/timeout/non-SMTP/pipelining")
K_SMTPD_WARNING = _kind("smtpd warning (DNS, SASL)")
K_MILTER_NOREPLY = _kind("milter-hold/milter-discard (no code)")
K_CLEANUP_MSGID = _kind("cleanup message-id")
K_QMGR_FROM = _kind("qmgr from=")
K_QMGR_REMOVED = _kind("qmgr removed")
K_QMGR_EXPIRED = _kind("qmgr expired")
K_SENT = _kind("delivery status=sent")
K_DEFER_NOREPLY = _kind("delivery deferred without reply (connect, DNS)")
K_BOUNCE_NOREPLY = _kind("delivery bounced without reply (DNS, local)")
K_SMTP_TLS = _kind("smtp TLS established")
K_BOUNCE_NOTIF = _kind("bounce notification")
K_PICKUP = _kind("pickup uid=")
K_STATS = _kind("anvil/scache statistics")
K_MASTER = _kind("master/postfix-script")

K_R_SMTPD_REJECT = _kind("reply: smtpd reject:", True)
K_R_SMTPD_REJECT_NC = _kind("reply: smtpd reject: (non-conforming)", True, True)
K_R_SMTPD_WARN = _kind("reply: smtpd reject_warning:", True)
K_R_PS_REJECT = _kind("reply: postscreen reject:", True)
K_R_SMTPD_MILTER = _kind("reply: smtpd milter-reject: MAIL/RCPT", True)
K_R_CLEANUP_MILTER = _kind("reply: cleanup milter-reject: END-OF-MESSAGE", True)
K_R_CLEANUP_HEADER = _kind("reply: cleanup reject: header (header_checks)", True)
K_R_BOUNCED = _kind("reply: status=bounced (host said)", True)
K_R_BOUNCED_NC = _kind("reply: status=bounced (host said, non-conforming)", True, True)
K_R_DEFERRED = _kind("reply: status=deferred (host said)", True)
K_R_REFUSED = _kind("reply: status=deferred (refused to talk to me)", True)

# ---- word pools (everything else is built from these with the seeded generator) ----------
FIRST = """james mary john patricia robert jennifer michael linda william elizabeth david barbara
richard susan joseph jessica thomas sarah charles karen daniel nancy matthew lisa anthony betty
mark margaret donald sandra steven ashley paul kimberly andrew emily joshua donna kenneth michelle
kevin dorothy brian carol george amanda timothy melissa ronald deborah jason stephanie edward
rebecca jeffrey sharon ryan laura jacob cynthia gary kathleen nicholas amy eric angela jonathan
shirley stephen anna larry brenda justin pamela scott emma brandon nicole benjamin helen samuel
samantha frank katherine gregory christine alexander debra raymond rachel patrick carolyn jack
janet dennis catherine jerry maria tyler heather aaron diane jose ruth adam julie henry olivia
nathan joyce douglas virginia zachary victoria peter kelly kyle lauren ethan christina walter joan
noah evelyn jeremy judith christian megan keith andrea roger cheryl terry hannah gerald jacqueline
harold martha sean gloria austin teresa carl ann arthur sara lawrence madison dylan frances jesse
kathryn jordan janice bryan jean billy abigail joe alice bruce judy gabriel sophia logan grace
lukas leonie finn mia jonas lea elias lena luca hanna felix marie maximilian sofia paul emilia
pierre camille louis chloe hugo manon jules ines marco giulia luca chiara matteo francesca sven
ingrid lars astrid jan eva piotr anna tomasz katarzyna""".split()
LAST = """smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez
gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson white harris
sanchez clark ramirez lewis robinson walker young allen king wright scott torres nguyen hill
flores green adams nelson baker hall rivera campbell mitchell carter roberts gomez phillips evans
turner diaz parker cruz edwards collins reyes stewart morris morales murphy cook rogers gutierrez
ortiz morgan cooper peterson bailey reed kelly howard ramos kim cox ward richardson watson brooks
chavez wood james bennett gray mendoza ruiz hughes price alvarez castillo sanders patel myers long
ross foster jimenez powell jenkins perry russell sullivan bell coleman butler henderson barnes
gonzales fisher vasquez simmons romero jordan patterson alexander hamilton graham reynolds griffin
wallace moreno west cole hayes bryant herrera gibson ellis tran medina aguilar stevens murray ford
castro marshall owens harrison fernandez mcdonald woods washington kennedy wells vargas henry chen
freeman webb tucker guzman burns crawford olson simpson porter hunter gordon mendez silva shaw
snyder mason dixon munoz hunt hicks holmes palmer wagner black robertson boyd rose stone salazar
fox warren mills meyer rice schmidt garza daniels ferguson nichols stephens soto weaver ryan
gardner payne grant dunn kelley spencer hawkins arnold pierce hansen peters santos hart bradley
knight elliott cunningham duncan armstrong hudson carroll lane riley andrews ray berry perkins
hoffman johnston matthews pena richards willis carpenter lawrence sandoval mueller schneider
fischer weber becker schulz koch richter klein wolf neumann schwarz zimmermann braun krause
hartmann lange werner krueger dubois durand lefebvre leroy moreau laurent rossi russo ferrari
esposito bianchi romano colombo ricci marino greco bruno gallo conti jansen devries bakker visser
smit nowak kowalski wisniewski wojcik kaminski lewandowski nielsen hansen pedersen andersen
larsen johansson karlsson nilsson eriksson""".split()
WORDS = """alpha apex arc atlas aurora axis beacon birch blue bold bright brook cedar cliff cloud
coast copper coral crest crown crystal delta dune eagle east echo edge ember falcon fern field
fjord flint forest fox frost garden gate glacier globe gold granite green grove harbor hawk heath
helix horizon iron island ivy jade jet juniper keystone lake lark laser leaf lime linden lotus
lunar maple marble meadow mesa metro mint mist moss mountain nexus noble north nova oak ocean
olive onyx orbit orchid pacific palm peak pearl pine pioneer pixel polar prairie prime pulse
quartz quest rain ranger raven reef ridge river rock rose ruby sage sail salt sand sapphire
shore sierra silver sky slate solar south spark spring spruce star stone storm summit sun swift
terra thunder tide timber topaz trail tree true tundra valley vector velvet vista wave west
willow wind wolf zen zephyr""".split()
SUFFIXES = """media tech systems solutions group labs works studio consulting design digital
software networks logistics partners capital health foods travel energy print shop store
market trading services motors finance legal realty homes games sports fashion bau haus werk
technik gmbh electro data cloud""".split()
TLDS = ["com"] * 14 + ["net"] * 4 + ["org"] * 3 + ["de"] * 5 + ["fr", "it", "nl", "pl", "es",
        "co.uk", "io", "ch", "at", "be", "se", "dk", "com.br", "com.au", "ca", "jp", "ru", "cz",
        "info", "biz", "eu", "us"]
ROLES = """info sales support noreply no-reply newsletter billing office contact admin hr jobs
marketing team hello service orders notifications alerts news mail accounts invoice webmaster
careers press help""".split()
BOT_HELOS = ["User", "localhost", "ylmf-pc", "WIN-CLJ1B0GQ6JP", "WIN-8BQ2L1T0B4F", "ADMIN",
             "desktop-3k9q2ht", "DESKTOP-7LM2KQ9", "mail", "smtp", "example.com", "pc",
             "[127.0.0.1]", "host", "EHLO", "test", "server", "dell-pc", "Asus", "ubuntu"]
ISPS = ["dynamic.kabel-deutschland.de", "dyn.telefonica.de", "pool.telekom.hu", "static.vnpt.vn",
        "dsl.brasiltelecom.net.br", "adsl.tpnet.pl", "dynamic.163data.com.cn", "pppoe.mtu-net.ru",
        "dyn.plus.net", "cable.virginm.net", "broadband.kyivstar.net", "static.ctinets.com",
        "dynamic.jazztel.es", "rev.sfr.net", "dsl.hol.gr", "res.spectrum.com", "fios.verizon.net",
        "hsd1.ca.comcast.net", "ip.linodeusercontent.com", "vultrusercontent.com",
        "static.hostinger.com", "contaboserver.net", "your-server.de", "ovh.net"]
FREEMAIL = [("gmail.com", 30), ("outlook.com", 8), ("hotmail.com", 7), ("yahoo.com", 6),
            ("gmx.de", 5), ("web.de", 5), ("icloud.com", 4), ("t-online.de", 3), ("aol.com", 2),
            ("orange.fr", 2), ("protonmail.com", 2), ("mail.ru", 2), ("yandex.ru", 1),
            ("live.com", 2), ("me.com", 1), ("libero.it", 1), ("free.fr", 1)]

OUR_MX_IP = "203.0.113.25"
OUR_OUT_IP = "203.0.113.26"
OUR_OUT_IP6 = "2001:db8:25::26"
OUR_DOMAINS = ["example.org", "example.net", "example.com", "shop.example.org", "lists.example.org"]
LMTP_RELAY = "mail.example.org[private/dovecot-lmtp]"

TLS_SERVER = [
    "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 "
    "server-signature RSA-PSS (2048 bits) server-digest SHA256",
    "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 "
    "server-signature RSA-PSS (2048 bits) server-digest SHA256",
    "TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits) key-exchange X25519 "
    "server-signature RSA-PSS (2048 bits) server-digest SHA256",
    "TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)",
    "TLSv1.2 with cipher ECDHE-RSA-AES128-GCM-SHA256 (128/128 bits)",
]
TLS_CLIENT = [
    "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 "
    "server-signature ECDSA (P-256) server-digest SHA256",
    "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 "
    "server-signature RSA-PSS (2048 bits) server-digest SHA256",
    "TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)",
]

# ---- reply catalogs ---------------------------------------------------------------------
# smtpd rejects at RCPT: (weight, reply, kind-flag) with {r} recipient, {s} sender,
# {sd} sender domain, {rd} recipient domain, {ip} client address, {h} HELO name.
# "nc" marks the non-conforming ones (Postfix keeps these codes as the access map
# says; it repairs a class mismatch and adds 5.7.1 when the map has no enhanced code).
SMTPD_RCPT_REJECTS = [
    (140, "550 5.1.1 <{r}>: Recipient address rejected: User unknown in virtual mailbox table", ""),
    (40, "550 5.1.1 <{r}>: Recipient address rejected: User unknown in local recipient table", ""),
    (15, "550 5.1.1 <{r}>: Recipient address rejected: User unknown in relay recipient table", ""),
    (45, "554 5.7.1 <{r}>: Relay access denied", ""),
    (12, "454 4.7.1 <{r}>: Relay access denied", ""),
    (70, "450 4.2.0 <{r}>: Recipient address rejected: Greylisted, see "
         "https://postgrey.schweikert.ch/help/{rd}.html", ""),
    (20, "451 4.7.1 <{r}>: Recipient address rejected: Intentional policy rejection, please "
         "try again later", ""),
    (60, "554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org; "
         "https://www.spamhaus.org/query/ip/{ip}", ""),
    (20, "554 5.7.1 Service unavailable; Client host [{ip}] blocked using bl.spamcop.net; "
         "Blocked - see https://www.spamcop.net/bl.shtml?{ip}", ""),
    (15, "554 5.7.1 Service unavailable; Client host [{ip}] blocked using b.barracudacentral.org; "
         "http://www.barracudanetworks.com/reputation/?pr=1&ip={ip}", ""),
    (6, "554 5.7.1 Service unavailable; Client host [{ip}] blocked using dnsbl.sorbs.net", ""),
    (15, "554 5.7.1 Service unavailable; Sender address [{s}] blocked using dbl.spamhaus.org; "
         "https://www.spamhaus.org/query/domain/{sd}", ""),
    (30, "504 5.5.2 <{h}>: Helo command rejected: need fully-qualified hostname", "helo"),
    (6, "501 5.5.2 <{h}>: Helo command rejected: Invalid name", "badhelo"),
    (10, "450 4.7.1 <{h}>: Helo command rejected: Host not found", ""),
    (30, "450 4.1.8 <{s}>: Sender address rejected: Domain not found", ""),
    (6, "550 5.1.8 <{s}>: Sender address rejected: Domain not found", ""),
    (25, "450 4.7.25 Client host rejected: cannot find your hostname, [{ip}]", "unknown"),
    (10, "550 5.7.25 Client host rejected: cannot find your reverse hostname, [{ip}]", "unknown"),
    (6, "504 5.5.2 <{s}>: Sender address rejected: need fully-qualified address", "nofqdn"),
    (14, "550 5.7.23 <{r}>: Recipient address rejected: Message rejected due to: SPF fail - not "
         "authorized. Please see http://www.openspf.net/Why?s=mfrom;id={s};ip={ip};r=<UNKNOWN>", ""),
    (8, "554 5.7.1 <{s}>: Sender address rejected: Access denied", ""),
    (8, "552 5.2.2 <{r}>: Recipient address rejected: Quota exceeded (mailbox for user is full)", ""),
    (4, "450 4.1.1 <{r}>: Recipient address rejected: unverified address: host "
        + LMTP_RELAY + " said: 550 5.1.1 <{r}> User doesn't exist: {r} (in reply to RCPT TO "
        "command)", ""),
    (5, "550 5.7.1 <{r}>: Recipient address rejected: Access denied", ""),
    (4, "450 4.7.1 <{r}>: Recipient address rejected: Rate limit exceeded, try again later", ""),
    (4, "550 5.1.0 <{s}>: Sender address rejected: User unknown in virtual mailbox table", "oursender"),
    (4, "554 5.7.1 <{cn}>: Client host rejected: Access denied", ""),
    (2, "556 5.7.27 <{s}>: Sender address rejected: Domain {sd} does not accept mail (nullMX)", ""),
    # non-conforming (about 1% of these rejects)
    (2.6, "557 5.7.1 <{r}>: Recipient address rejected: Too many duplicate messages", "nc"),
    (2.0, "572 5.7.1 <{r}>: Recipient address rejected: Relay not permitted", "nc"),
    (1.6, "571 5.7.1 <{r}>: Recipient address rejected: Delivery not authorized, message refused", "nc"),
    (1.6, "550 5.01.1 <{r}>: Recipient address rejected: no such user", "nc"),
    (1.6, "554 5.7.99 <{r}>: Recipient address rejected: Policy violation", "nc"),
]
# reject_warning (warn_if_reject in front of a restriction being tried out)
SMTPD_WARN_REJECTS = [
    (5, "450 4.7.25 Client host rejected: cannot find your hostname, [{ip}]"),
    (3, "504 5.5.2 <{h}>: Helo command rejected: need fully-qualified hostname"),
    (3, "450 4.7.1 <{h}>: Helo command rejected: Host not found"),
    (2, "554 5.7.1 Service unavailable; Client host [{ip}] blocked using bl.mailspike.net"),
    (2, "450 4.1.8 <{s}>: Sender address rejected: Domain not found"),
]
# postscreen rejects: (weight, reply, what the session shows before it)
PS_REJECTS = [
    (60, "550 5.7.1 Service unavailable; client [{ip}] blocked using zen.spamhaus.org", "dnsbl"),
    (10, "550 5.7.1 Service unavailable; client [{ip}] blocked using b.barracudacentral.org", "dnsbl"),
    (8, "550 5.7.1 Service unavailable; client [{ip}] blocked using bl.spamcop.net", "dnsbl"),
    (12, "550 5.5.1 Protocol error", "pregreet"),
    (25, "450 4.3.2 Service currently unavailable", "new"),
]
DNSBL_ANSWERS = [("zen.spamhaus.org", ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.9",
                                       "127.0.0.10", "127.0.0.11"]),
                 ("b.barracudacentral.org", ["127.0.0.2"]), ("bl.spamcop.net", ["127.0.0.2"]),
                 ("bl.mailspike.net", ["127.0.0.10", "127.0.0.11", "127.0.0.12"]),
                 ("list.dnswl.org", ["127.0.10.0", "127.0.5.1"])]
# milter-reject at MAIL/RCPT (smtpd, with basic code)
MILTER_RCPT = [
    (40, "451 4.7.1 Greylisting in action, please come back in 00:05:00"),
    (15, "550 5.7.1 Command rejected"),
    (10, "451 4.7.1 Try again later"),
    (8, "554 5.7.1 Sender address blocked by policy"),
    (6, "550 5.7.1 <{r}>: recipient not accepted (spam trap)"),
]
MILTER_MAIL = [
    (10, "550 5.7.1 Command rejected"),
    (5, "451 4.7.1 Service unavailable - try again later"),
    (5, "550 5.7.1 Sender {s} is not allowed to send mail here"),
]
# milter-reject at END-OF-MESSAGE (cleanup: enhanced code and text, no basic code)
MILTER_EOM = [
    (50, "5.7.1 Spam message rejected"),
    (25, "4.7.1 Try again later"),
    (12, "5.7.1 rejected by DMARC policy for {sd}"),
    (6, "5.7.1 Virus found: Win.Trojan.Agent-1234567"),
    (5, "4.7.1 Ratelimit \"sender\" exceeded"),
    (4, "5.7.1 Message content rejected, UCE"),
    (3, "4.7.0 Temporary error, try again later"),
]
HEADER_REJECTS = [
    ("Subject", ["Your account has been suspended", "URGENT: invoice overdue", "You have won!",
                 "Re: cheap meds online", "=?UTF-8?B?UGF5bWVudCBjb25maXJtYXRpb24=?="],
     "5.7.1 Message content rejected"),
    ("Content-Type", ["application/x-msdownload; name=\"invoice.exe\"",
                      "application/x-ms-dos-executable"],
     "5.7.1 Attachment type not allowed"),
    ("X-Mailer", ["PHPMailer 5.2.1", "The Bat! (v3.0) Professional"], "5.7.1 Bulk mailer not welcome"),
]


def enhanced_dsn(reply, soft=False):
    """The dsn= Postfix's smtp client logs for a remote reply: its enhanced code when
    it is well-formed and of the basic code's class, X.0.0 otherwise (checked against
    Postfix 3.7.11: "550 4.7.1" -> 5.0.0, "572 Relay" -> 5.0.0, "550 5.01.1" -> 5.01.1).
    soft: a 5xx greeting skipped (smtp_skip_5xx_greeting) is deferred with class 4."""
    code = reply[:3]
    tok = reply[4:].split(" ", 1)[0]
    parts = tok.split(".")
    if (len(parts) == 3 and all(p.isdigit() and 1 <= len(p) <= 3 for p in parts)
            and len(parts[0]) == 1 and parts[0] == code[0]):
        dsn = tok
    else:
        dsn = code[0] + ".0.0"
    if soft and dsn[0] == "5":
        dsn = "4" + dsn[1:]
    return dsn


# Remote replies to our outbound mail, by provider: (weight, reply, in reply to, nonconf).
# {r} recipient, {rd} its domain, {ip} our address, {gid} a Gmail trace id,
# {ohost} an Outlook server, {odate} an Outlook time stamp, {oid} a hex id.
G_NOSUCHUSER = ("550-5.1.1 The email account that you tried to reach does not exist. Please try "
                "550-5.1.1 double-checking the recipient's email address for typos or "
                "550-5.1.1 unnecessary spaces. For more information, go to "
                "550 5.1.1  https://support.google.com/mail/?p=NoSuchUser {gid} - gsmtp")
G_UNSOLICITED = ("550-5.7.1 [{ip}] Gmail has detected that this message is likely "
                 "550-5.7.1 unsolicited mail. To reduce the amount of spam sent to Gmail, "
                 "550-5.7.1 this message has been blocked. For more information, go to "
                 "550 5.7.1  https://support.google.com/mail/?p=UnsolicitedMessageError {gid} - gsmtp")
G_UNAUTH = ("550-5.7.26 Your email has been blocked because the sender is unauthenticated. "
            "550-5.7.26 Gmail requires all senders to authenticate with either SPF or DKIM. "
            "550-5.7.26  550-5.7.26  Authentication results: "
            "550-5.7.26  DKIM = did not pass "
            "550-5.7.26  SPF [{sd}] with ip: [{ip}] = did not pass "
            "550-5.7.26  550-5.7.26  For instructions on setting up authentication, go to "
            "550 5.7.26  https://support.google.com/mail/answer/81126#authentication {gid} - gsmtp")
G_RATE = ("421-4.7.28 Gmail has detected an unusual rate of unsolicited mail. To protect "
          "421-4.7.28 our users from spam, mail has been temporarily rate limited. For more "
          "421-4.7.28 information, go to "
          "421-4.7.28  https://support.google.com/mail/?p=UnsolicitedRateLimitError to "
          "421 4.7.28 review our Bulk Email Senders Guidelines. {gid} - gsmtp")
G_QUOTA = ("452-4.2.2 The recipient's inbox is out of storage space. Please direct the "
           "452-4.2.2 recipient to "
           "452 4.2.2  https://support.google.com/mail/?p=OverQuotaTemp {gid} - gsmtp")
G_DISABLED = ("550-5.2.1 The email account that you tried to reach is inactive. For more "
              "550-5.2.1 information, go to "
              "550 5.2.1  https://support.google.com/mail/?p=DisabledUser {gid} - gsmtp")
REMOTE_FAIL = {
    "gmail": [
        (45, G_NOSUCHUSER, "RCPT TO", False), (10, G_DISABLED, "RCPT TO", False),
        (12, G_UNSOLICITED, "end of DATA", False), (10, G_UNAUTH, "end of DATA", False),
        (14, G_RATE, "end of DATA", False), (9, G_QUOTA, "RCPT TO", False),
        (2, "421 4.7.0 Try again later, closing connection. (EHLO) {gid} - gsmtp", "EHLO", False),
    ],
    "outlook": [
        (40, "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). "
             "[{ohost}.eurprd04.prod.outlook.com {odate} {oid}]", "RCPT TO", False),
        (15, "550 5.4.1 Recipient address rejected: Access denied. For more information see "
             "https://aka.ms/EXOSmtpErrors [{ohost}.namprd04.prod.outlook.com {odate} {oid}]",
             "RCPT TO", False),
        (12, "550 5.7.1 Unfortunately, messages from [{ip}] weren't sent. Please contact your "
             "Internet service provider since part of their network is on our block list "
             "(S3150). You can also refer your provider to "
             "http://mail.live.com/mail/troubleshooting.aspx#errors. "
             "[{ohost}.eurprd04.prod.outlook.com {odate} {oid}]", "MAIL FROM", False),
        (20, "451 4.7.500 Server busy. Please try again later from [{ip}]. (S77719) "
             "[{ohost}.eurprd04.prod.outlook.com {odate} {oid}]", "RCPT TO", False),
        (6, "550 5.7.606 Access denied, banned sending IP [{ip}]. To request removal from this "
            "list please visit https://sender.office.com/ and follow the directions. For more "
            "information please go to  http://go.microsoft.com/fwlink/?LinkID=526655 AS(1430) "
            "[{ohost}.eurprd04.prod.outlook.com {odate} {oid}]", "RCPT TO", False),
        (5, "452 4.3.1 Insufficient system resources (TooManyMessagesInQueue) "
            "[{ohost}.eurprd04.prod.outlook.com {odate} {oid}]", "end of DATA", False),
    ],
    "yahoo": [
        (40, "554 delivery error: dd This user doesn't have a yahoo.com account ({r}) [0] - "
             "mta4005.mail.bf1.yahoo.com", "end of DATA", False),
        (35, "421 4.7.0 [TSS04] Messages from {ip} temporarily deferred due to unexpected volume "
             "or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
             "MAIL FROM", False),
        (10, "553 5.7.2 [TSS09] All messages from {ip} will be permanently deferred; Retrying "
             "will NOT succeed. See https://postmaster.yahooinc.com/error-codes", "MAIL FROM", False),
    ],
    "gmx": [
        (40, "550 Requested action not taken: mailbox unavailable", "RCPT TO", False),
        (20, "554-Transaction failed 554-Reject due to policy restrictions. 554 For explanation "
             "visit https://postmaster.gmx.net/en/case?c=r0201&i=ip&v={ip}&r=1M0abc-1xyz",
             "end of DATA", False),
        (15, "452 4.2.2 Mailbox full", "RCPT TO", False),
    ],
    "generic": [
        (60, "550 5.1.1 <{r}>: Recipient address rejected: User unknown in virtual mailbox table",
         "RCPT TO", False),
        (30, "550 5.1.1 <{r}>: Recipient address rejected: User unknown", "RCPT TO", False),
        (25, "550 5.1.1 <{r}>: Recipient address rejected: User unknown in local recipient table",
         "RCPT TO", False),
        (20, "550 Unrouteable address", "RCPT TO", False),
        (10, "550 Administrative prohibition", "RCPT TO", False),
        (12, "552 5.2.2 <{r}>: Recipient address rejected: Mailbox is full", "RCPT TO", False),
        (10, "554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org; "
             "https://www.spamhaus.org/query/ip/{ip}", "RCPT TO", False),
        (10, "554 5.7.1 <{r}>: Relay access denied", "RCPT TO", False),
        (8, "550 5.7.1 Message rejected as spam by Content Filtering.", "end of DATA", False),
        (8, "554 5.7.1 Message rejected: spam score too high", "end of DATA", False),
        (6, "550 5.7.1 Sender domain not allowed", "MAIL FROM", False),
        (6, "550 5.7.23 SPF validation failed", "MAIL FROM", False),
        (5, "552 5.3.4 Message size exceeds fixed limit", "MAIL FROM", False),
        (4, "553 5.1.3 <{r}>: Recipient address rejected: invalid address", "RCPT TO", False),
        (30, "450 4.2.0 <{r}>: Recipient address rejected: Greylisted, see "
             "https://postgrey.schweikert.ch/help/{rd}.html", "RCPT TO", False),
        (25, "451 4.7.1 Please try again later", "RCPT TO", False),
        (20, "421 4.7.0 Try again later, closing connection.", "MAIL FROM", False),
        (12, "451 4.3.0 <{r}>: Temporary lookup failure", "RCPT TO", False),
        (10, "452 4.2.2 <{r}>: Recipient address rejected: Mailbox full", "RCPT TO", False),
        (8, "451 4.3.0 Error: queue file write error", "end of DATA", False),
        (6, "450 4.7.1 <{r}>: Recipient address rejected: Service is unavailable", "RCPT TO", False),
        (4, "451 4.7.1 Greylisting in action, please come back in 00:05:00", "DATA", False),
        # non-conforming replies of remote servers
        (1.0, "557 5.7.1 Too many duplicate messages", "end of DATA", True),
        (1.0, "572 Relay not permitted", "RCPT TO", True),
        (1.0, "550 4.7.1 Access denied", "RCPT TO", True),
        (0.8, "550 5.01.1 <{r}>: no such user", "RCPT TO", True),
        (0.8, "550 Rejected", "RCPT TO", True),
        (0.8, "571 Delivery not authorized, message refused", "RCPT TO", True),
        (0.8, "554 5.7.99 Policy violation", "end of DATA", True),
    ],
}
# remote greetings that refuse (smtp_skip_5xx_greeting: deferred, dsn class 4)
REMOTE_REFUSE = [
    (30, "554 5.7.1 Service unavailable; client [{ip}] blocked using zen.spamhaus.org"),
    (20, "421 4.7.0 {mx} Error: too many connections from {ip}"),
    (15, "554 {mx} ESMTP not accepting connections"),
    (10, "554 IP={ip} - A problem occurred. (Ask your postmaster for help or to contact "
         "tosa@rx.t-online.de to clarify.)"),
    (8, "421 4.3.2 Service currently unavailable"),
    (6, "421 {mx} Service not available - too busy"),
]
REMOTE_OK = {
    "gmail": ["250 2.0.0 OK  {epoch} {gid} - gsmtp"],
    "outlook": ["250 2.6.0 <{mid}> [InternalId={iid}, Hostname={ohost}.eurprd04.prod.outlook.com] "
                "{size} bytes in 0.{ms}, {kbs} KB/sec Queued mail for delivery"],
    "yahoo": ["250 ok dirdel"],
    "gmx": ["250 Requested mail action okay, completed: id={gmxid}"],
    "generic": ["250 2.0.0 Ok: queued as {rqid}", "250 2.0.0 Ok: queued as {rqid}",
                "250 2.0.0 Ok: queued as {rqid}", "250 OK id={eximid}",
                "250 2.0.0 {rqid} Message accepted for delivery",
                "250 Ok: queued as {rqid}"],
}
NOREPLY_DEFER = [
    (30, "connect to {mx}[{mip}]:25: Connection timed out", "4.4.1", "none"),
    (12, "connect to {mx}[{mip}]:25: Connection refused", "4.4.1", "none"),
    (8, "connect to {mx}[{mip}]:25: No route to host", "4.4.1", "none"),
    (10, "lost connection with {mx}[{mip}] while receiving the initial server greeting", "4.4.2", "relay"),
    (6, "conversation with {mx}[{mip}] timed out while receiving the initial server greeting",
     "4.4.2", "relay"),
    (4, "lost connection with {mx}[{mip}] while sending end of data -- message may be sent "
        "more than once", "4.4.2", "relay"),
    (10, "Host or domain name not found. Name service error for name={rd} type=MX: Host not "
         "found, try again", "4.4.3", "none"),
]


def cum(weights):
    out, t = [], 0.0
    for w in weights:
        t += w
        out.append(t)
    return out


def fmt_delay(x):
    """Postfix's delay format: integer seconds from 10 s, one decimal below that,
    two below 1 s, trailing zeros dropped ("0.2", "0.02", "0", "1.5", "12")."""
    if x >= 10:
        return "%d" % x
    if x >= 1:
        s = "%.1f" % x
    else:
        s = "%.2f" % x
    s = s.rstrip("0").rstrip(".")
    return s or "0"


class Pids:
    """The processes of one Postfix service: a few pids at a time, replaced now and
    then by new processes with higher pids (max_use, max_idle)."""

    def __init__(self, gen, tag, n, churn):
        self.gen = gen
        self.tag = tag
        self.churn = churn
        self.pool = [self._prefix(gen.new_pid()) for _ in range(n)]

    def respawn(self):
        self.pool = [self._prefix(self.gen.new_pid()) for _ in self.pool]

    def _prefix(self, pid):
        return "%s %s[%d]: " % (self.gen.hostname, self.tag, pid)

    def get(self):
        x = self.gen.rr() * len(self.pool)
        i = int(x)
        if x - i < self.churn:          # the fraction is uniform too
            self.pool[i] = self._prefix(self.gen.new_pid())
        return self.pool[i]


class Gen:
    def __init__(self, lines, seed, fmt, days, start, hostname):
        self.N = lines
        self.seed = seed
        self.fmt = fmt
        self.days = days
        self.start = start
        self.hostname = hostname
        R = random.Random("%d/%d" % (seed, lines))      # the same events in both formats
        self.R = R
        self.rr = R.random
        self.counts = [0] * len(KIND_NAMES)
        self.pid = 1000 + R.randrange(20000)
        self.qids = set()
        self.now = 0.0            # seconds since start of the current line
        self.lineno = 0
        self.heap = []
        self.heap_seq = 0
        self.disc_cache = {}
        self.lines_per_sec = max(lines / (days * 86400.0), 1e-6)
        self.start_epoch = start.replace(tzinfo=datetime.timezone.utc).timestamp()
        self._build_pools()
        self._build_processes()
        self._build_catalogs()

    # ---- helpers ------------------------------------------------------------------------
    def pick(self, seq):
        return seq[int(self.rr() * len(seq))]

    def skew(self, seq, p=2.0):
        """An element of seq, the first ones much more often (heavy hitters)."""
        return seq[int(len(seq) * self.rr() ** p)]

    def wpick(self, items, cw):
        return items[bisect.bisect(cw, self.rr() * cw[-1])]

    def new_pid(self):
        self.pid += 1 + int(self.rr() * 60)
        if self.pid >= 4194304:
            self.pid = 300 + int(self.rr() * 1000)
        return self.pid

    def new_qid(self):
        """Postfix short queue id: %05X of the microseconds, %lX of the inode."""
        rr = self.rr
        while True:
            usec = int(rr() * 1000000)
            r = rr()
            if r < 0.06:
                ino = 0x10000 + int(rr() * 0xF0000)      # 5 hex digits: 10 characters
            else:
                ino = 0x1A0000 + int(rr() * 0x5FFFF)     # 6 hex digits: 11 characters
            key = (usec << 24) | ino
            if key not in self.qids:
                self.qids.add(key)
                return "%05X%X" % (usec, ino)

    def ipv4(self):
        rr = self.rr
        while True:
            a = 1 + int(rr() * 223)
            if a in (10, 127, 0, 100, 169, 172, 192, 198, 203):
                continue
            return "%d.%d.%d.%d" % (a, int(rr() * 256), int(rr() * 256), 1 + int(rr() * 254))

    def ipv6(self, prefix=None):
        rr = self.rr
        if prefix is None:
            prefix = "%x:%x:%x" % (0x2001 + int(rr() * 0xc00), int(rr() * 0xffff), int(rr() * 0xffff))
        return "%s::%x" % (prefix, 1 + int(rr() * 0xfff))

    def hexid(self, n):
        return "%0*X" % (n, self.R.getrandbits(4 * n))

    def b64id(self, nbytes):
        return base64.b64encode(self.R.getrandbits(8 * nbytes).to_bytes(nbytes, "big"),
                                b"+/").decode("ascii").rstrip("=")

    def domain_name(self):
        R = self.R
        w = self.pick(WORDS)
        r = R.random()
        if r < 0.45:
            name = w + self.pick(SUFFIXES)
        elif r < 0.75:
            name = w + "-" + self.pick(SUFFIXES)
        elif r < 0.9:
            name = w + self.pick(WORDS)
        else:
            name = w + str(R.randrange(1, 99))
        return name + "." + self.pick(TLDS)

    def localpart(self):
        R = self.R
        f, l = self.pick(FIRST), self.pick(LAST)
        r = R.random()
        if r < 0.35:
            return f + "." + l
        if r < 0.5:
            return f[0] + l
        if r < 0.6:
            return f + l[0]
        if r < 0.7:
            return f + str(R.randrange(1, 2000))
        if r < 0.78:
            return f + "_" + l
        if r < 0.9:
            return self.pick(ROLES)
        return l + "." + f

    # ---- pools ----------------------------------------------------------------------------
    def _build_pools(self):
        R = self.R
        doms, seen = [], set(OUR_DOMAINS)
        while len(doms) < 3000:
            d = self.domain_name()
            if d not in seen:
                seen.add(d)
                doms.append(d)
        self.ext_domains = doms
        self.hosted = OUR_DOMAINS + doms[:15]       # domains this MX receives for
        self.ext_domains = doms[15:]
        fm_items = [d for d, _ in FREEMAIL]
        self.freemail_cw = cum([w for _, w in FREEMAIL])
        self.freemail = fm_items

        # our users (recipients of inbound mail, senders of outbound mail)
        users, seen = [], set()
        while len(users) < 6000:
            d = self.hosted[0] if R.random() < 0.4 else self.pick(self.hosted)
            a = self.localpart() + "@" + d
            if a not in seen:
                seen.add(a)
                users.append(a)
        self.users = users
        # addresses that do not exist here (dictionary attacks, old addresses, typos)
        unknown = []
        while len(unknown) < 20000:
            d = self.pick(self.hosted)
            r = R.random()
            if r < 0.5:
                lp = self.localpart()
            elif r < 0.7:
                lp = self.pick(FIRST) + str(R.randrange(1, 100))
            elif r < 0.85:
                lp = "".join(self.pick("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(R.randrange(5, 12)))
            else:
                lp = self.pick(ROLES) + str(R.randrange(1, 20))
            a = lp + "@" + d
            if a not in seen:
                seen.add(a)
                unknown.append(a)
        self.unknown_rcpts = unknown
        # external senders (inbound) and recipients (outbound)
        ext_common = self.ext_domains[:600]
        self.out_domains = ext_common
        senders = []
        for i in range(40000):
            r = R.random()
            if r < 0.35:
                d = self.wpick(self.freemail, self.freemail_cw)
            else:
                d = self.skew(self.ext_domains, 1.6)
            r = R.random()
            if r < 0.07:
                lp = "bounces+%d-%s-%s=%s" % (R.randrange(100000, 9999999), self.hexid(4).lower(),
                                              self.localpart(), self.hosted[0])
                d = "em%d.%s" % (R.randrange(100, 9999), d if R.random() < 0.5 else "sendgrid.net")
            elif r < 0.11:
                lp = "msprvs1=%s=bounces-%d" % (self.b64id(8).replace("+", "_").replace("/", "-"),
                                               R.randrange(1000, 99999))
                d = "bounce.%s" % d
            else:
                lp = self.localpart()
            senders.append(lp + "@" + d)
        self.senders = senders
        rcpts = []
        for i in range(30000):
            d = self.wpick(self.freemail, self.freemail_cw) if R.random() < 0.45 else \
                self.skew(ext_common, 1.5)
            rcpts.append(self.localpart() + "@" + d)
        self.out_rcpts = rcpts

        # inbound clients: (namaddr, ip, helo)
        legit = []
        for i in range(300):
            if R.random() < 0.5:
                h = "%x" % R.randrange(0x400, 0x700)
                ip = "2a00:1450:%x:%x::%s" % (R.choice([0x4864, 0x4860, 0x400c, 0x4010]), R.randrange(0, 0x30), h)
                host = "mail-%s%d-x%s.google.com" % (R.choice(["ed1", "ej1", "wr1", "lf1", "pj1", "yb1", "qt1"]),
                                                      R.randrange(1, 2), h)
            else:
                n = R.randrange(41, 99)
                ip = "209.85.%d.%d" % (R.randrange(128, 256), n)
                host = "mail-%s-f%d.google.com" % (R.choice(["wr1", "wm1", "ej1", "lf1", "pl1", "yw1", "qv1"]), n)
            legit.append((host, ip, host))
        for i in range(400):
            reg = R.choice(["eur05", "eur04", "eur03", "eur02", "nam12", "nam11", "nam10", "nam04", "apc01"])
            n = R.randrange(2000, 2300)
            if R.random() < 0.6:
                ip = "2a01:111:f403:%x::%x" % (R.randrange(0x2600, 0x2e00), R.randrange(0x600, 0x800))
            else:
                ip = "40.107.%d.%d" % (R.randrange(0, 256), R.randrange(1, 255))
            host = "mail-%s%d%son%d.outbound.protection.outlook.com" % (
                R.choice(["am6", "db8", "vi1", "he1", "bn8", "dm6", "co1", "mw2", "sg2"]),
                R.randrange(1, 9), reg, n)
            helo = "%s-%s-obe.outbound.protection.outlook.com" % (reg.upper(), R.choice(["AM6", "DB8", "VI1", "HE1", "BN8", "DM6"]))
            legit.append((host, ip, helo))
        for i in range(250):
            a, b = R.randrange(1, 255), R.randrange(1, 255)
            host = "a%d-%d.smtp-out.amazonses.com" % (a, b)
            legit.append((host, "54.240.%d.%d" % (a, b), host))
        for i in range(150):
            host = "o%d.ptr%d.sendgrid.net" % (R.randrange(1, 20), R.randrange(1000, 9999))
            legit.append((host, "167.89.%d.%d" % (R.randrange(0, 128), R.randrange(1, 255)), host))
        for i in range(150):
            a, b = R.randrange(0, 255), R.randrange(1, 255)
            host = "mail%d.atl%d.rsgsv.net" % (R.randrange(1, 250), R.randrange(11, 251))
            legit.append((host, "198.2.%d.%d" % (a, b), host))
        for i in range(100):
            a, b = R.randrange(1, 255), R.randrange(1, 255)
            host = "mta-%d-%d.sparkpostmail.com" % (a, b)
            legit.append((host, "192.174.%d.%d" % (R.randrange(80, 96), b), host))
        for i in range(80):
            host = "mout.%s" % R.choice(["gmx.net", "web.de", "kundenserver.de"])
            ip = "212.227.%d.%d" % (R.randrange(15, 18), R.randrange(1, 255))
            legit.append((host, ip, host))
        for i in range(60):
            ip = "17.58.%d.%d" % (R.randrange(0, 100), R.randrange(1, 255))
            host = "%s-%s.me.com" % (R.choice(["st43p00im", "mr85p00im", "ms11p00im"]), R.choice(["ztdg1", "hyfv3", "zteu2"]) + "%05d" % R.randrange(10000, 99999))
            legit.append((host, ip, host))
        for i in range(2200):
            d = self.skew(self.ext_domains, 1.3)
            host = R.choice(["mail", "mx", "mx1", "mx2", "smtp", "mout", "out", "relay", "mail2", "smtp-out"]) + "." + d
            ip = self.ipv6() if R.random() < 0.1 else self.ipv4()
            legit.append((host, ip, host))
        R.shuffle(legit)
        self.legit_clients = [("%s[%s]" % (h, ip), ip, helo) for h, ip, helo in legit]

        bots = []
        for i in range(3500):
            ip = self.ipv6() if R.random() < 0.04 else self.ipv4()
            r = R.random()
            if r < 0.6:
                bots.append(("unknown[%s]" % ip, ip, self.pick(BOT_HELOS) if R.random() < 0.7 else self.domain_name()))
            else:
                if ":" in ip:
                    ip = self.ipv4()
                a, b, c, d = ip.split(".")
                isp = self.pick(ISPS)
                host = R.choice(["%s-%s-%s-%s.%s" % (a, b, c, d, isp), "%s.%s.%s.%s.%s" % (d, c, b, a, isp),
                                 "ip%s-%s-%s-%s.%s" % (a, b, c, d, isp), "host-%s-%s-%s-%s.%s" % (a, b, c, d, isp)])
                helo = host if R.random() < 0.3 else self.pick(BOT_HELOS)
                bots.append(("%s[%s]" % (host, ip), ip, helo))
        self.bot_clients = bots
        # internal relay clients and submission users' addresses
        self.internal_clients = [("%s.int.example.org[10.1.%d.%d]" % (n, R.randrange(0, 8), R.randrange(2, 250)),
                                  None, "%s.int.example.org" % n)
                                 for n in ["app01", "app02", "app03", "web01", "web02", "crm", "erp",
                                           "monitor", "backup01", "jira", "gitlab", "nextcloud"]]
        self.internal_clients = [(na, na[na.index("[") + 1:-1], h) for na, _, h in self.internal_clients]
        self.internal_clients.append(("localhost[127.0.0.1]", "127.0.0.1", "localhost"))
        subm = []
        for i in range(1500):
            ip = self.ipv6() if R.random() < 0.15 else self.ipv4()
            if R.random() < 0.5:
                subm.append(("unknown[%s]" % ip, ip))
            else:
                a = ip.replace(".", "-").replace(":", "-")
                subm.append(("%s.%s[%s]" % (a, self.pick(ISPS), ip), ip))
        self.subm_clients = subm

        # peer MX hosts of the outbound domains: domain -> list of (host, ip)
        self.mx_of = {}
        for d in self.out_domains:
            r = R.random()
            if r < 0.15:
                host = d.replace(".", "-") + ".mail.protection.outlook.com"
                self.mx_of[d] = ("outlook", [(host, "52.101.%d.%d" % (R.randrange(0, 256), R.randrange(1, 255)))])
            else:
                hosts = []
                for n in (["mx"] if r < 0.6 else ["mx1", "mx2"]):
                    hosts.append(("%s.%s" % (n, d), self.ipv6() if R.random() < 0.1 else self.ipv4()))
                self.mx_of[d] = ("generic", hosts)
        g = [("gmail-smtp-in.l.google.com", "142.250.%d.%d" % (R.randrange(0, 256), 26 + R.randrange(2))) for _ in range(6)]
        g += [("alt%d.gmail-smtp-in.l.google.com" % n, "2a00:1450:4%03x:c%02x::1a" % (R.randrange(0, 0x20), R.randrange(0, 0x20))) for n in (1, 2, 3, 4)]
        self.mx_of["gmail.com"] = ("gmail", g)
        for d in ("outlook.com", "hotmail.com", "live.com"):
            self.mx_of[d] = ("outlook", [("%s.olc.protection.outlook.com" % d.replace(".", "-"),
                                          "52.101.%d.%d" % (R.randrange(0, 256), R.randrange(1, 255))) for _ in range(4)])
        self.mx_of["yahoo.com"] = ("yahoo", [("mta%d.am0.yahoodns.net" % n, "67.195.%d.%d" % (R.randrange(204, 229), R.randrange(1, 255))) for n in (5, 6, 7)])
        self.mx_of["aol.com"] = ("yahoo", [("mx-aol.mail.gm0.yahoodns.net", "67.195.204.%d" % R.randrange(70, 80))])
        for d in ("gmx.de", "web.de"):
            self.mx_of[d] = ("gmx", [("mx%02d.emig.gmx.net" % n if d == "gmx.de" else "mx-ha0%d.web.de" % n,
                                      "212.227.17.%d" % R.randrange(1, 30)) for n in (0, 1)])
        self.mx_of["t-online.de"] = ("generic", [("mx0%d.t-online.de" % n, "194.25.134.%d" % (8 + n)) for n in (0, 1, 2, 3)])
        for d in ("icloud.com", "me.com"):
            self.mx_of[d] = ("generic", [("mx0%d.mail.icloud.com" % n, "17.57.%d.%d" % (152 + n, 10 + n)) for n in (1, 2)])
        for d in ("orange.fr", "protonmail.com", "mail.ru", "yandex.ru", "libero.it", "free.fr"):
            self.mx_of[d] = ("generic", [("mx%d.%s" % (n, d) if d != "protonmail.com" else "mail.protonmail.ch", self.ipv4()) for n in (1, 2)])
        self.t_online_refuse = "t-online.de"

        # message ids, remote ids
        self.gids = ["%s%d-%s%s.%d" % (R.choice(["a", "b", "c", "d", "e", "f", "ffacd0b85a97d", "5b1f17b1804b1"]), R.randrange(1, 99),
                                       "20020a%s" % self.hexid(10).lower(), "si%d%s" % (R.randrange(1000000, 9999999), R.choice(["wmb", "ejc", "wrb", "edb", "pfb"])),
                                       R.randrange(100, 999)) for _ in range(3000)]
        self.ohosts = ["%s%s" % (R.choice(["AM4PEPF", "DB5PEPF", "VI1EUR04FT", "HE1PR0", "AS8PR04MB", "DU0PR04MB", "PAXPR04MB"]), self.hexid(8))
                       for _ in range(500)]
        # delays: precomputed strings for (a/b/c/d, total) of fast deliveries
        dl = []
        for _ in range(4096):
            a = R.expovariate(1 / 0.35)
            b = R.expovariate(1 / 0.02) if R.random() < 0.8 else R.expovariate(1 / 2.0)
            c = R.expovariate(1 / 0.05)
            d = R.expovariate(1 / 0.3)
            dl.append("delay=%s, delays=%s/%s/%s/%s" % (fmt_delay(a + b + c + d), fmt_delay(a), fmt_delay(b),
                                                       fmt_delay(c), fmt_delay(d)))
        self.delays_fast = dl
        dl = []
        for _ in range(2048):
            a = R.expovariate(1 / 0.3)
            b = R.expovariate(1 / 0.01)
            d = R.expovariate(1 / 0.08)
            dl.append("delay=%s, delays=%s/%s/0/%s" % (fmt_delay(a + b + d), fmt_delay(a), fmt_delay(b), fmt_delay(d)))
        self.delays_local = dl
        self.dids = [self.b64id(16) for _ in range(32768)]          # Dovecot LMTP ids
        self.frags = [self.b64id(16).replace("/", "_") for _ in range(4096)]
        self.sizes = [max(300, int(math.exp(R.gauss(9.3, 1.3)))) for _ in range(4096)]
        self.ports = [str(1024 + R.randrange(64000)) for _ in range(8192)]

    def _build_processes(self):
        P = Pids
        self.p_smtpd = P(self, "postfix/smtpd", 40, 0.015)
        self.p_subm = P(self, "postfix/submission/smtpd", 10, 0.02)
        self.p_ps = P(self, "postfix/postscreen", 1, 0.00001)
        self.p_dnsblog = P(self, "postfix/dnsblog", 6, 0.01)
        self.p_cleanup = P(self, "postfix/cleanup", 10, 0.005)
        self.p_qmgr = P(self, "postfix/qmgr", 1, 0.00001)
        self.p_smtp = P(self, "postfix/smtp", 30, 0.01)
        self.p_lmtp = P(self, "postfix/lmtp", 10, 0.01)
        self.p_local = P(self, "postfix/local", 3, 0.01)
        self.p_virtual = P(self, "postfix/virtual", 3, 0.01)
        self.p_bounce = P(self, "postfix/bounce", 4, 0.01)
        self.p_pickup = P(self, "postfix/pickup", 1, 0.001)
        self.p_anvil = P(self, "postfix/anvil", 1, 0.001)
        self.p_scache = P(self, "postfix/scache", 1, 0.01)
        self.p_master = P(self, "postfix/master", 1, 0.0)
        self.all_pids = [v for v in vars(self).values() if isinstance(v, Pids)]

    def _build_catalogs(self):
        self.rej_items = SMTPD_RCPT_REJECTS
        self.rej_cw = cum([w for w, _, _ in SMTPD_RCPT_REJECTS])
        self.warn_items = [t for _, t in SMTPD_WARN_REJECTS]
        self.warn_cw = cum([w for w, _ in SMTPD_WARN_REJECTS])
        self.ps_items = PS_REJECTS
        self.ps_cw = cum([w for w, _, _ in PS_REJECTS])
        self.mrcpt_items = [t for _, t in MILTER_RCPT]
        self.mrcpt_cw = cum([w for w, _ in MILTER_RCPT])
        self.mmail_items = [t for _, t in MILTER_MAIL]
        self.mmail_cw = cum([w for w, _ in MILTER_MAIL])
        self.meom_items = [t for _, t in MILTER_EOM]
        self.meom_cw = cum([w for w, _ in MILTER_EOM])
        self.rfail = {}
        for prov, items in REMOTE_FAIL.items():
            self.rfail[prov] = ([(t, irt, nc, enhanced_dsn(t.replace("{", "").replace("}", "")))
                                 for _, t, irt, nc in items], cum([w for w, _, _, _ in items]))
        self.refuse_items = [(t, enhanced_dsn(t.replace("{mx}", "mx").replace("{ip}", "1"), soft=True))
                             for _, t in REMOTE_REFUSE]
        self.refuse_cw = cum([w for w, _ in REMOTE_REFUSE])
        self.ndefer_items = [(t, dsn, rel) for _, t, dsn, rel in NOREPLY_DEFER]
        self.ndefer_cw = cum([w for w, _, _, _ in NOREPLY_DEFER])
        # sessions: (weight, builder)
        sess = [
            (26, self.s_inbound),
            (38, self.s_smtpd_reject),
            (7, self.s_postscreen_reject),
            (4, self.s_postscreen_noise),
            (2.0, self.s_milter_rcpt),
            (2.2, self.s_milter_eom),
            (0.5, self.s_header_reject),
            (0.5, self.s_milter_noreply),
            (18, self.s_outbound),
            (1.2, self.s_internal_relay),
            (4, self.s_sasl_bruteforce),
            (4, self.s_scanner),
            (0.4, self.s_pickup),
        ]
        self.sess_items = [f for _, f in sess]
        self.sess_cw = cum([w for w, _ in sess])

    # ---- small builders -----------------------------------------------------------------
    def msgid(self, sender_dom, qid=None):
        r = self.rr()
        if r < 0.3:
            return "<CA%s%s@mail.gmail.com>" % (self.pick(self.frags), self.pick(self.frags))
        if r < 0.55:
            return "<%s.%s@%s>" % (self.stamp14(), self.hexid(6).lower(), sender_dom)
        if r < 0.75:
            return "<%s@%s>" % (self.hexid(16).lower(), sender_dom)
        if r < 0.9:
            return "<%s-%s-%s-%s@%s>" % (self.hexid(8).lower(), self.hexid(4).lower(), self.hexid(4).lower(),
                                         self.hexid(12).lower(), sender_dom)
        if r < 0.97:
            return "<%s.%s@%s.prod.outlook.com>" % (self.hexid(12), self.hexid(12), self.pick(self.ohosts))
        return "<>"                       # no Message-ID header: Postfix logs message-id=<>

    def stamp14(self):
        t = self.start + datetime.timedelta(seconds=self.now)
        return t.strftime("%Y%m%d%H%M%S")

    def disconnect(self, namaddr, cmds):
        """"disconnect from X ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4": cmds is a
        list of (name, ok, total) in Postfix's order."""
        key = tuple(cmds)
        tail = self.disc_cache.get(key)
        if tail is None:
            parts = []
            ok_sum = tot_sum = 0
            for name, ok, tot in cmds:
                if tot == 0:
                    continue
                parts.append("%s=%d" % (name, ok) if ok == tot else "%s=%d/%d" % (name, ok, tot))
                ok_sum += ok
                tot_sum += tot
            parts.append("commands=%d" % ok_sum if ok_sum == tot_sum else "commands=%d/%d" % (ok_sum, tot_sum))
            tail = self.disc_cache[key] = " " + " ".join(parts) + "\n"
        return "disconnect from " + namaddr + tail

    def postscreen_front(self, out, ip, port, outcome="old"):
        ps = self.p_ps.get()
        out.append((K_PS_CONNECT, ps + "CONNECT from [%s]:%s to [%s]:25\n" % (ip, port, OUR_MX_IP)))
        if outcome == "old":
            out.append((K_PS_PASS, ps + "PASS OLD [%s]:%s\n" % (ip, port)))
        elif outcome == "new":
            out.append((K_PS_PASS, ps + "PASS NEW [%s]:%s\n" % (ip, port)))
        elif outcome == "allow":
            out.append((K_PS_PASS, ps + "ALLOWLISTED [%s]:%s\n" % (ip, port)))

    def dnsbl_lines(self, out, ip, port, rank):
        ps = self.p_ps.get()
        if ":" not in ip:
            for _ in range(1 + int(self.rr() * 2.2)):
                dom, answers = self.pick(DNSBL_ANSWERS[:4])
                out.append((K_PS_DNSBL, self.p_dnsblog.get() + "addr %s listed by domain %s as %s\n"
                            % (ip, dom, self.pick(answers))))
        out.append((K_PS_DNSBL, ps + "DNSBL rank %d for [%s]:%s\n" % (rank, ip, port)))

    def fill(self, t, r="", s="", ip="", h="", cn=""):
        if "{" not in t:
            return t
        return t.format(r=r, s=s, ip=ip, h=h, cn=cn, rd=r.rsplit("@", 1)[-1], sd=s.rsplit("@", 1)[-1])

    # ---- sessions -------------------------------------------------------------------------
    def s_inbound(self):
        """A message accepted from the Internet, delivered to Dovecot over LMTP (or local)."""
        rr = self.rr
        out = []
        namaddr, ip, helo = self.skew(self.legit_clients, 1.8)
        port = self.pick(self.ports)
        self.postscreen_front(out, ip, port, "old" if rr() < 0.85 else ("new" if rr() < 0.5 else "allow"))
        smtpd = self.p_smtpd.get()
        out.append((K_SMTPD_CONNECT, smtpd + "connect from %s\n" % namaddr))
        tls = rr() < 0.7
        if tls:
            out.append((K_SMTPD_TLS, smtpd + "Anonymous TLS connection established from %s: %s\n"
                        % (namaddr, self.pick(TLS_SERVER))))
        sender = self.skew(self.senders, 1.3) if rr() > 0.04 else ""
        nr = 1 if rr() < 0.82 else 2 + int(rr() * 4)
        rcpts = [self.skew(self.users, 1.5) for _ in range(nr)]
        qid = self.new_qid()
        out.append((K_SMTPD_CLIENT, smtpd + "%s: client=%s\n" % (qid, namaddr)))
        rcpt_tot = nr
        bad = 0
        if rr() < 0.06:
            # one more recipient that does not exist: rejected in the same session
            bad = 1
            rcpt_tot += 1
            r = self.pick(self.unknown_rcpts)
            out.append((K_R_SMTPD_REJECT, smtpd + "%s: reject: RCPT from %s: 550 5.1.1 <%s>: Recipient "
                        "address rejected: User unknown in virtual mailbox table; from=<%s> to=<%s> "
                        "proto=ESMTP helo=<%s>\n" % (qid, namaddr, r, sender, r, helo)))
        cleanup = self.p_cleanup.get()
        mid = self.msgid(sender.rsplit("@", 1)[-1] or "example.net", qid)
        out.append((K_CLEANUP_MSGID, cleanup + "%s: message-id=%s\n" % (qid, mid)))
        qmgr = self.p_qmgr.get()
        size = self.pick(self.sizes)
        out.append((K_QMGR_FROM, qmgr + "%s: from=<%s>, size=%d, nrcpt=%d (queue active)\n" % (qid, sender, size, nr)))
        out.append((K_SMTPD_DISCONNECT, smtpd + self.disconnect(namaddr, [
            ("ehlo", 1 + tls, 1 + tls), ("starttls", 1, 1 if tls else 0), ("mail", 1, 1),
            ("rcpt", nr, rcpt_tot), ("data", 1, 1), ("quit", 1, 1)])))
        r = rr()
        if r < 0.85:
            lmtp = self.p_lmtp.get()
            for rc in rcpts:
                x = rr()
                if x < 0.985:
                    out.append((K_SENT, lmtp + "%s: to=<%s>, relay=%s, %s, dsn=2.0.0, status=sent (250 2.0.0 <%s> %s Saved)\n"
                                % (qid, rc, LMTP_RELAY, self.pick(self.delays_local), rc, self.pick(self.dids))))
                elif x < 0.995:
                    out.append((K_R_BOUNCED, lmtp + "%s: to=<%s>, relay=%s, %s, dsn=5.2.2, status=bounced (host %s said: "
                                "552 5.2.2 <%s> Quota exceeded (mailbox for user is full) (in reply to end of DATA command))\n"
                                % (qid, rc, LMTP_RELAY, self.pick(self.delays_local), LMTP_RELAY, rc)))
                    self.bounce_tail(out, qid, sender, None)
                else:
                    out.append((K_R_DEFERRED, lmtp + "%s: to=<%s>, relay=%s, %s, dsn=4.2.2, status=deferred (host %s said: "
                                "452 4.2.2 <%s> Quota exceeded (mailbox for user is full) (in reply to end of DATA command))\n"
                                % (qid, rc, LMTP_RELAY, self.pick(self.delays_local), LMTP_RELAY, rc)))
                    self.schedule(600 + rr() * 1200, self.r_local_retry, (qid, sender, rc, size))
                    return out
        elif r < 0.95:
            local = self.p_local.get()
            for rc in rcpts:
                if rr() < 0.97:
                    how = "delivered to mailbox" if rr() < 0.7 else 'delivered to command: /usr/bin/procmail -a "$EXTENSION"'
                    out.append((K_SENT, local + "%s: to=<%s>, relay=local, %s, dsn=2.0.0, status=sent (%s)\n"
                                % (qid, rc, self.pick(self.delays_local), how)))
                else:
                    out.append((K_BOUNCE_NOREPLY, local + '%s: to=<%s>, relay=local, %s, dsn=5.1.1, status=bounced (unknown user: "%s")\n'
                                % (qid, rc, self.pick(self.delays_local), rc.split("@")[0])))
                    self.bounce_tail(out, qid, sender, None)
        else:
            virt = self.p_virtual.get()
            for rc in rcpts:
                out.append((K_SENT, virt + "%s: to=<%s>, relay=virtual, %s, dsn=2.0.0, status=sent (delivered to maildir)\n"
                            % (qid, rc, self.pick(self.delays_local))))
        out.append((K_QMGR_REMOVED, qmgr + "%s: removed\n" % qid))
        return out

    def r_local_retry(self, qid, sender, rc, size):
        out = []
        qmgr = self.p_qmgr.get()
        out.append((K_QMGR_FROM, qmgr + "%s: from=<%s>, size=%d, nrcpt=1 (queue active)\n" % (qid, sender, size)))
        lmtp = self.p_lmtp.get()
        out.append((K_SENT, lmtp + "%s: to=<%s>, relay=%s, delay=%d, delays=%d/0.01/0.01/0.05, dsn=2.0.0, status=sent "
                    "(250 2.0.0 <%s> %s Saved)\n" % (qid, rc, LMTP_RELAY, 700 + self.rr() * 1200, 700 + self.rr() * 1100, rc, self.pick(self.dids))))
        out.append((K_QMGR_REMOVED, qmgr + "%s: removed\n" % qid))
        return out

    def s_smtpd_reject(self):
        """A client rejected by smtpd restrictions (NOQUEUE)."""
        rr = self.rr
        out = []
        item = self.wpick(self.rej_items, self.rej_cw)
        _, text, flag = item
        # DNSBL, HELO, reverse DNS and SPF rejects hit the bots; user unknown,
        # greylisting, relaying and the like real servers too
        if flag or "blocked using" in text or "SPF" in text or rr() < 0.65:
            namaddr, ip, helo = self.skew(self.bot_clients, 1.4)
        else:
            namaddr, ip, helo = self.skew(self.legit_clients, 1.2)
        port = self.pick(self.ports)
        if rr() < 0.92:
            self.postscreen_front(out, ip, port, "old" if rr() < 0.7 else "new")
        smtpd = self.p_smtpd.get()
        if flag == "unknown" or (namaddr.startswith("unknown[") and rr() < 0.3):
            # reverse DNS mismatch: the warning, then the client is "unknown"
            if rr() < 0.5:
                host = self.domain_name()
                host = "mail." + host
                if rr() < 0.7:
                    out.append((K_SMTPD_WARNING, smtpd + "warning: hostname %s does not resolve to address %s: "
                                "Name or service not known\n" % (host, ip)))
                else:
                    out.append((K_SMTPD_WARNING, smtpd + "warning: hostname %s does not resolve to address %s\n" % (host, ip)))
            namaddr = "unknown[%s]" % ip
        if flag == "helo":
            helo = self.pick(["localhost", "User", "ylmf-pc", "WIN-CLJ1B0GQ6JP", "ADMIN", "mail", "smtp", "pc", "desktop"])
        elif flag == "badhelo":
            helo = self.pick(["[%s]" % ip.rsplit(".", 1)[0], "mail_server", "host..example", "-"])
        out.append((K_SMTPD_CONNECT, smtpd + "connect from %s\n" % namaddr))
        tls = rr() < 0.25
        if tls:
            out.append((K_SMTPD_TLS, smtpd + "Anonymous TLS connection established from %s: %s\n"
                        % (namaddr, self.pick(TLS_SERVER))))
        if flag == "oursender":
            sender = self.pick(self.unknown_rcpts)
        elif flag == "nofqdn":
            sender = self.pick(FIRST)
        else:
            sender = self.pick(self.senders) if rr() > 0.12 else ""
        proto = "ESMTP" if rr() < 0.93 else "SMTP"
        n = 1 if rr() < 0.7 else 2 + int(rr() * 4)
        kind = K_R_SMTPD_REJECT_NC if flag == "nc" else K_R_SMTPD_REJECT
        same_reason = text.startswith(("554 5.7.1 Service", "504", "501", "450 4.7.1 <{h}", "450 4.1.8", "450 4.7.25",
                                        "550 5.7.25", "550 5.1.8", "554 5.7.1 <{s}", "556"))
        if not sender and ("{s}" in text or "{sd}" in text):
            sender = self.pick(self.senders)
        warn = rr() < 0.05
        if warn:
            # a restriction being tried out with warn_if_reject; one that fits the client
            for _ in range(4):
                wtext = self.wpick(self.warn_items, self.warn_cw)
                if "cannot find your hostname" in wtext and not namaddr.startswith("unknown["):
                    continue
                if "need fully-qualified hostname" in wtext and "." in helo:
                    continue
                if "<{s}>" in wtext and not sender:
                    continue
                break
            else:
                wtext = self.warn_items[3]
        for i in range(n):
            if i and not same_reason and rr() < 0.5:
                item = self.wpick(self.rej_items, self.rej_cw)
                _, text, flag2 = item
                if flag2 in ("helo", "badhelo", "unknown", "oursender", "nofqdn") or \
                        (not sender and ("{s}" in text or "{sd}" in text)):
                    text, flag2 = SMTPD_RCPT_REJECTS[0][1], ""
                kind = K_R_SMTPD_REJECT_NC if flag2 == "nc" else K_R_SMTPD_REJECT
            if text.startswith("550 5.1.1") or rr() < 0.6:
                r = self.pick(self.unknown_rcpts)
            elif text.startswith(("554 5.7.1 <{r}>: Relay", "454")):
                r = self.pick(self.out_rcpts)
            else:
                r = self.skew(self.users, 1.5)
            if warn:
                out.append((K_R_SMTPD_WARN, smtpd + "NOQUEUE: reject_warning: RCPT from %s: %s; from=<%s> to=<%s> proto=%s helo=<%s>\n"
                            % (namaddr, self.fill(wtext, r, sender, ip, helo), sender, r, proto, helo)))
            reply = self.fill(text, r, sender, ip, helo, namaddr)
            out.append((kind, smtpd + "NOQUEUE: reject: RCPT from %s: %s; from=<%s> to=<%s> proto=%s helo=<%s>\n"
                        % (namaddr, reply, sender, r, proto, helo)))
        hello = "ehlo" if proto == "ESMTP" else "helo"
        x = rr()
        if x < 0.55:
            out.append((K_SMTPD_DISCONNECT, smtpd + self.disconnect(namaddr, [
                (hello, 1 + tls, 1 + tls), ("starttls", 1, 1 if tls else 0), ("mail", 1, 1), ("rcpt", 0, n), ("quit", 1, 1)])))
        elif x < 0.75:
            out.append((K_SMTPD_DISCONNECT, smtpd + self.disconnect(namaddr, [
                (hello, 1 + tls, 1 + tls), ("starttls", 1, 1 if tls else 0), ("mail", 1, 1), ("rcpt", 0, n),
                ("data", 0, 1), ("quit", 1, 1)])))
        elif x < 0.9:
            out.append((K_SMTPD_DISCONNECT, smtpd + self.disconnect(namaddr, [
                (hello, 1 + tls, 1 + tls), ("starttls", 1, 1 if tls else 0), ("mail", 1, 1), ("rcpt", 0, n),
                ("rset", 1, 1), ("quit", 1, 1)])))
        else:
            out.append((K_SMTPD_LOST, smtpd + "lost connection after RCPT from %s\n" % namaddr))
            out.append((K_SMTPD_DISCONNECT, smtpd + self.disconnect(namaddr, [
                (hello, 1 + tls, 1 + tls), ("starttls", 1, 1 if tls else 0), ("mail", 1, 1), ("rcpt", 0, n)])))
        if rr() < 0.02:
            # message too large, announced at MAIL
            s2 = self.pick(self.senders)
            out.insert(-1, (K_R_SMTPD_REJECT, smtpd + "NOQUEUE: reject: MAIL from %s: 552 5.3.4 Message size exceeds fixed "
                            "limit; from=<%s> proto=%s helo=<%s>\n" % (namaddr, s2, proto, helo)))
        return out

    def s_postscreen_reject(self):
        rr = self.rr
        out = []
        namaddr, ip, helo = self.skew(self.bot_clients, 1.2)
        port = self.pick(self.ports)
        ps = self.p_ps.get()
        reply, pre = self.wpick(self.ps_items, self.ps_cw)[1:]
        out.append((K_PS_CONNECT, ps + "CONNECT from [%s]:%s to [%s]:25\n" % (ip, port, OUR_MX_IP)))
        if pre == "dnsbl":
            self.dnsbl_lines(out, ip, port, 3 + int(rr() * 8))
        elif pre == "pregreet":
            out.append((K_PS_OTHER, ps + "PREGREET %d after %s from [%s]:%s: EHLO %s\\r\\n\n"
                        % (7 + len(helo), fmt_delay(rr() * 0.5 + 0.01), ip, port, helo)))
        elif rr() < 0.3:
            out.append((K_PS_OTHER, ps + "COMMAND PIPELINING from [%s]:%s after EHLO: MAIL FROM:<%s>\\r\\n\n"
                        % (ip, port, self.pick(self.senders))))
        sender = self.pick(self.senders) if rr() > 0.1 else ""
        for i in range(1 if rr() < 0.8 else 2 + int(rr() * 3)):
            r = self.pick(self.unknown_rcpts) if rr() < 0.5 else self.skew(self.users, 1.4)
            out.append((K_R_PS_REJECT, ps + "NOQUEUE: reject: RCPT from [%s]:%s: %s; from=<%s>, to=<%s>, proto=ESMTP, helo=<%s>\n"
                        % (ip, port, reply.replace("{ip}", ip), sender, r, helo)))
        out.append((K_PS_OTHER, ps + "DISCONNECT [%s]:%s\n" % (ip, port)))
        return out

    def s_postscreen_noise(self):
        rr = self.rr
        out = []
        namaddr, ip, helo = self.skew(self.bot_clients, 1.2)
        port = self.pick(self.ports)
        ps = self.p_ps.get()
        x = rr()
        if x < 0.08:
            out.append((K_PS_REJECT_CONNECT, ps + "NOQUEUE: reject: CONNECT from [%s]:%s: too many connections\n" % (ip, port)))
            return out
        out.append((K_PS_CONNECT, ps + "CONNECT from [%s]:%s to [%s]:25\n" % (ip, port, OUR_MX_IP)))
        if x < 0.45:
            out.append((K_PS_OTHER, ps + "HANGUP after %s from [%s]:%s in tests before SMTP handshake\n"
                        % (fmt_delay(rr() * 6 + 0.05), ip, port)))
        elif x < 0.7:
            out.append((K_PS_OTHER, ps + "PREGREET %d after %s from [%s]:%s: EHLO %s\\r\\n\n"
                        % (7 + len(helo), fmt_delay(rr() * 0.5 + 0.01), ip, port, helo)))
        elif x < 0.85:
            self.dnsbl_lines(out, ip, port, 1 + int(rr() * 2))
            out.append((K_PS_OTHER, ps + "HANGUP after %s from [%s]:%s in tests after SMTP handshake\n"
                        % (fmt_delay(rr() * 10 + 0.5), ip, port)))
        else:
            out.append((K_PS_OTHER, ps + "HANGUP after %s from [%s]:%s in tests before SMTP handshake\n"
                        % (fmt_delay(rr() * 2 + 0.05), ip, port)))
        out.append((K_PS_OTHER, ps + "DISCONNECT [%s]:%s\n" % (ip, port)))
        return out

    def _milter_session_start(self, out, bot):
        rr = self.rr
        namaddr, ip, helo = self.skew(self.bot_clients if bot else self.legit_clients, 1.5)
        port = self.pick(self.ports)
        self.postscreen_front(out, ip, port, "old")
        smtpd = self.p_smtpd.get()
        out.append((K_SMTPD_CONNECT, smtpd + "connect from %s\n" % namaddr))
        tls = rr() < 0.5
        if tls:
            out.append((K_SMTPD_TLS, smtpd + "Anonymous TLS connection established from %s: %s\n"
                        % (namaddr, self.pick(TLS_SERVER))))
        return smtpd, namaddr, ip, helo, tls

    def s_milter_rcpt(self):
        rr = self.rr
        out = []
        smtpd, namaddr, ip, helo, tls = self._milter_session_start(out, rr() < 0.6)
        sender = self.pick(self.senders)
        if rr() < 0.2:
            reply = self.fill(self.wpick(self.mmail_items, self.mmail_cw), s=sender)
            out.append((K_R_SMTPD_MILTER, smtpd + "NOQUEUE: milter-reject: MAIL from %s: %s; from=<%s> proto=ESMTP helo=<%s>\n"
                        % (namaddr, reply, sender, helo)))
            cmds = [("ehlo", 1 + tls, 1 + tls), ("starttls", 1, 1 if tls else 0), ("mail", 0, 1), ("quit", 1, 1)]
        else:
            n = 1 if rr() < 0.8 else 2
            for _ in range(n):
                r = self.skew(self.users, 1.5)
                reply = self.fill(self.wpick(self.mrcpt_items, self.mrcpt_cw), r=r, s=sender)
                out.append((K_R_SMTPD_MILTER, smtpd + "NOQUEUE: milter-reject: RCPT from %s: %s; from=<%s> to=<%s> proto=ESMTP helo=<%s>\n"
                            % (namaddr, reply, sender, r, helo)))
            cmds = [("ehlo", 1 + tls, 1 + tls), ("starttls", 1, 1 if tls else 0), ("mail", 1, 1), ("rcpt", 0, n), ("quit", 1, 1)]
        out.append((K_SMTPD_DISCONNECT, smtpd + self.disconnect(namaddr, cmds)))
        return out

    def _eom_session(self, kind_line):
        """Accepted up to the final dot, then cleanup rejects (milter or header_checks)."""
        rr = self.rr
        out = []
        smtpd, namaddr, ip, helo, tls = self._milter_session_start(out, rr() < 0.5)
        sender = self.pick(self.senders)
        r = self.skew(self.users, 1.5)
        qid = self.new_qid()
        out.append((K_SMTPD_CLIENT, smtpd + "%s: client=%s\n" % (qid, namaddr)))
        cleanup = self.p_cleanup.get()
        if rr() < 0.85:
            out.append((K_CLEANUP_MSGID, cleanup + "%s: message-id=%s\n" % (qid, self.msgid(sender.rsplit("@", 1)[1], qid))))
        out.append(kind_line(cleanup, qid, namaddr, sender, r, helo))
        out.append((K_SMTPD_DISCONNECT, smtpd + self.disconnect(namaddr, [
            ("ehlo", 1 + tls, 1 + tls), ("starttls", 1, 1 if tls else 0), ("mail", 1, 1), ("rcpt", 1, 1),
            ("data", 0, 1), ("quit", 1, 1)])))
        return out

    def s_milter_eom(self):
        def line(cleanup, qid, namaddr, sender, r, helo):
            reply = self.fill(self.wpick(self.meom_items, self.meom_cw), r=r, s=sender)
            return (K_R_CLEANUP_MILTER, cleanup + "%s: milter-reject: END-OF-MESSAGE from %s: %s; from=<%s> to=<%s> proto=ESMTP helo=<%s>\n"
                    % (qid, namaddr, reply, sender, r, helo))
        return self._eom_session(line)

    def s_header_reject(self):
        def line(cleanup, qid, namaddr, sender, r, helo):
            name, values, reply = self.pick(HEADER_REJECTS)
            return (K_R_CLEANUP_HEADER, cleanup + "%s: reject: header %s: %s from %s; from=<%s> to=<%s> proto=ESMTP helo=<%s>: %s\n"
                    % (qid, name, self.pick(values), namaddr, sender, r, helo, reply))
        return self._eom_session(line)

    def s_milter_noreply(self):
        rr = self.rr
        if rr() < 0.5:
            def line(cleanup, qid, namaddr, sender, r, helo):
                return (K_MILTER_NOREPLY, cleanup + "%s: milter-hold: END-OF-MESSAGE from %s: milter triggers HOLD action; "
                        "from=<%s> to=<%s> proto=ESMTP helo=<%s>\n" % (qid, namaddr, sender, r, helo))
            out = self._eom_session(line)
            # a held message: the client got 250, so data=1
            k, t = out[-1]
            out[-1] = (k, t.replace(" data=0/1 ", " data=1 ").replace("commands=5/6", "commands=6")
                       .replace("commands=4/5", "commands=5"))
            return out
        out = []
        smtpd, namaddr, ip, helo, tls = self._milter_session_start(out, True)
        sender = self.pick(self.senders)
        r = self.skew(self.users, 1.5)
        out.append((K_MILTER_NOREPLY, smtpd + "NOQUEUE: milter-discard: RCPT from %s: milter triggers DISCARD action; "
                    "from=<%s> to=<%s> proto=ESMTP helo=<%s>\n" % (namaddr, sender, r, helo)))
        out.append((K_SMTPD_DISCONNECT, smtpd + self.disconnect(namaddr, [
            ("ehlo", 1 + tls, 1 + tls), ("starttls", 1, 1 if tls else 0), ("mail", 1, 1), ("rcpt", 1, 1), ("quit", 1, 1)])))
        return out

    # ---- outbound ---------------------------------------------------------------------------
    def _submission(self, out, internal):
        """The client part of outbound mail; returns (qid, sender, rcpts, size, qmgr)."""
        rr = self.rr
        if internal:
            namaddr, ip, helo = self.pick(self.internal_clients)
            smtpd = self.p_smtpd.get()
            auth = ""
            sender = self.pick(["noreply", "alerts", "crm", "billing", "jira", "gitlab", "backup"]) + "@" + self.hosted[0]
            tls = False
        else:
            namaddr, ip = self.skew(self.subm_clients, 1.5)
            smtpd = self.p_subm.get()
            sender = self.skew(self.users, 1.6)
            auth = ", sasl_method=%s, sasl_username=%s" % ("PLAIN" if rr() < 0.7 else "LOGIN", sender)
            tls = True
        out.append((K_SMTPD_CONNECT, smtpd + "connect from %s\n" % namaddr))
        if tls:
            out.append((K_SMTPD_TLS, smtpd + "Anonymous TLS connection established from %s: %s\n"
                        % (namaddr, self.pick(TLS_SERVER[:3]))))
        qid = self.new_qid()
        out.append((K_SMTPD_CLIENT, smtpd + "%s: client=%s%s\n" % (qid, namaddr, auth)))
        nr = 1 if rr() < 0.75 else 2 + int(rr() * 3)
        rcpts = [self.skew(self.out_rcpts, 1.3) for _ in range(nr)]
        cleanup = self.p_cleanup.get()
        out.append((K_CLEANUP_MSGID, cleanup + "%s: message-id=<%s.%s@%s>\n" % (qid, self.stamp14(), qid, self.hosted[0])
                    if internal else cleanup + "%s: message-id=%s\n" % (qid, self.msgid(sender.rsplit("@", 1)[1], qid))))
        qmgr = self.p_qmgr.get()
        size = self.pick(self.sizes)
        out.append((K_QMGR_FROM, qmgr + "%s: from=<%s>, size=%d, nrcpt=%d (queue active)\n" % (qid, sender, size, nr)))
        out.append((K_SMTPD_DISCONNECT, smtpd + self.disconnect(namaddr, [
            ("ehlo", 2 if tls else 1, 2 if tls else 1), ("starttls", 1, 1 if tls else 0), ("auth", 1, 1 if auth else 0),
            ("mail", 1, 1), ("rcpt", nr, nr), ("data", 1, 1), ("quit", 1, 1)])))
        return qid, sender, rcpts, size, qmgr

    def remote_ok(self, prov, mx, size, qid):
        t = self.pick(REMOTE_OK[prov])
        if "{" not in t:
            return t
        R = self.R
        f = {}
        if "{epoch}" in t:
            f["epoch"] = int(self.start_epoch + self.now)
            f["gid"] = self.pick(self.gids)
        if "{rqid}" in t:
            f["rqid"] = self.new_qid_remote()
        if "{mid}" in t:
            f["mid"] = "%s@%s" % (self.hexid(12).lower(), self.hosted[0])
            f["iid"] = R.randrange(10 ** 12, 10 ** 13)
            f["ohost"] = self.pick(self.ohosts)
            f["size"] = size + 700
            f["ms"] = "%03d" % R.randrange(1000)
            f["kbs"] = "%d.%03d" % (R.randrange(10, 9000), R.randrange(1000))
        if "{gmxid}" in t:
            f["gmxid"] = "1M%s-1%s" % (self.pick(self.frags)[:7], self.pick(self.frags)[:11])
        if "{eximid}" in t:
            f["eximid"] = "1r%s-000%s-%s" % (self.pick(self.frags)[:4], self.pick(self.frags)[:3],
                                               self.pick(self.frags)[:2])
        return t.format(**f)

    def new_qid_remote(self):
        return "4%s" % self.hexid(9) if self.rr() < 0.5 else "%05X%X" % (int(self.rr() * 1000000), 0x10000 + int(self.rr() * 0x7FFFFF))

    def deliver_remote(self, out, qid, sender, rc, size, first, arrived):
        """One smtp client delivery attempt. Returns "sent", "bounced", or for a
        deferral the line's parts (kind, relay, dsn, text, connect time) so that a
        dead destination can fail the same way at every retry."""
        rr = self.rr
        rd = rc.rsplit("@", 1)[1]
        prov, mxs = self.mx_of.get(rd) or self.mx_of[self.out_domains[0]]
        mx, mip = self.pick(mxs)
        smtp = self.p_smtp.get()
        relay = "%s[%s]:25" % (mx, mip)
        x = rr()
        p_fail = 0.18 if first else 0.3
        if x >= p_fail:
            if rr() < 0.1:
                relay += ", conn_use=%d" % (2 + int(rr() * 5))
            if rr() < 0.75:
                out.append((K_SMTP_TLS, smtp + "%s TLS connection established to %s[%s]:25: %s\n" % (
                    "Trusted" if rr() < 0.6 else ("Untrusted" if rr() < 0.8 else "Verified"), mx, mip, self.pick(TLS_CLIENT))))
            out.append((K_SENT, smtp + "%s: to=<%s>, relay=%s, %s, dsn=2.0.0, status=sent (%s)\n"
                        % (qid, rc, relay, self.retry_delays(arrived, 0) if not first else self.pick(self.delays_fast),
                           self.remote_ok(prov, mx, size, qid))))
            return "sent"
        y = rr()
        if y < 0.12:
            t, dsn, rel = self.wpick(self.ndefer_items, self.ndefer_cw)
            txt = t.format(mx=mx, mip=mip, rd=rd)
            conn = 30 * min(len(mxs), 5) if "timed out" in t and "connect" in t else 0
            redo = (K_DEFER_NOREPLY, "none" if rel == "none" else relay, dsn, txt, conn)
        elif y < 0.14:
            out.append((K_BOUNCE_NOREPLY, smtp + "%s: to=<%s>, relay=none, %s, dsn=5.4.4, status=bounced (Host or domain name "
                        "not found. Name service error for name=%s type=A: Host not found)\n"
                        % (qid, rc, self.pick(self.delays_fast) if first else self.retry_delays(arrived, 0), rd)))
            return "bounced"
        elif y < 0.21 and prov == "generic":
            t, dsn = self.wpick(self.refuse_items, self.refuse_cw)
            if rd == self.t_online_refuse:
                t, dsn = self.refuse_items[3]
            txt = "host %s[%s] refused to talk to me: %s" % (mx, mip, t.format(mx=mx, ip=OUR_OUT_IP))
            redo = (K_R_REFUSED, relay, dsn, txt, 0)
        else:
            items, cw = self.rfail[prov]
            t, irt, nc, dsn = self.wpick(items, cw)
            txt = t.format(r=rc, rd=rd, sd=sender.rsplit("@", 1)[-1], ip=OUR_OUT_IP6 if ":" in mip else OUR_OUT_IP,
                           gid=self.pick(self.gids), ohost=self.pick(self.ohosts), oid=self.hexid(16),
                           odate=self.odate()) if "{" in t else t
            txt = "host %s[%s] said: %s (in reply to %s command)" % (mx, mip, txt, irt)
            if t[0] == "5":
                out.append(((K_R_BOUNCED_NC if nc else K_R_BOUNCED), smtp + "%s: to=<%s>, relay=%s, %s, dsn=%s, status=bounced (%s)\n"
                            % (qid, rc, relay, self.pick(self.delays_fast) if first else self.retry_delays(arrived, 0), dsn, txt)))
                return "bounced"
            redo = (K_R_DEFERRED, relay, dsn, txt, 0)
        self.emit_deferred(out, smtp, qid, rc, redo, None if first else arrived)
        return redo

    def retry_delays(self, arrived, conn):
        rr = self.rr
        age = self.now - arrived
        b, d = rr() * 0.05, rr() * 0.5
        c = conn + rr() * 0.3
        a = max(age - b - c - d, 0.01)
        return "delay=%s, delays=%s/%s/%s/%s" % (fmt_delay(a + b + c + d), fmt_delay(a), fmt_delay(b), fmt_delay(c), fmt_delay(d))

    def emit_deferred(self, out, smtp, qid, rc, redo, arrived):
        kind, relay, dsn, txt, conn = redo
        if arrived is None:
            delays = self.retry_delays(self.now - self.rr() * 0.8, conn)
        else:
            delays = self.retry_delays(arrived, conn)
        out.append((kind, smtp + "%s: to=<%s>, relay=%s, %s, dsn=%s, status=deferred (%s)\n"
                    % (qid, rc, relay, delays, dsn, txt)))

    def odate(self):
        t = self.start + datetime.timedelta(seconds=self.now)
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % int(self.rr() * 1000)

    def bounce_tail(self, out, qid, sender, _unused):
        """bounce notification to the sender: a new message from <> delivered by LMTP."""
        if not sender:
            return
        nq = self.new_qid()
        bounce = self.p_bounce.get()
        cleanup = self.p_cleanup.get()
        qmgr = self.p_qmgr.get()
        out.append((K_CLEANUP_MSGID, cleanup + "%s: message-id=<%s.%s@mx.example.org>\n" % (nq, self.stamp14(), nq)))
        out.append((K_BOUNCE_NOTIF, bounce + "%s: sender non-delivery notification: %s\n" % (qid, nq)))
        out.append((K_QMGR_FROM, qmgr + "%s: from=<>, size=%d, nrcpt=1 (queue active)\n" % (nq, 2000 + int(self.rr() * 4000))))
        rd = sender.rsplit("@", 1)[-1]
        if rd in self.hosted:
            out.append((K_SENT, self.p_lmtp.get() + "%s: to=<%s>, relay=%s, %s, dsn=2.0.0, status=sent (250 2.0.0 <%s> %s Saved)\n"
                        % (nq, sender, LMTP_RELAY, self.pick(self.delays_local), sender, self.pick(self.dids))))
        else:
            prov, mxs = self.mx_of.get(rd) or self.mx_of[self.pick(self.out_domains)]
            mx, mip = self.pick(mxs)
            out.append((K_SENT, self.p_smtp.get() + "%s: to=<%s>, relay=%s[%s]:25, %s, dsn=2.0.0, status=sent (%s)\n"
                        % (nq, sender, mx, mip, self.pick(self.delays_fast), self.remote_ok(prov, mx, 3000, nq))))
        out.append((K_QMGR_REMOVED, qmgr + "%s: removed\n" % nq))

    def s_outbound(self, internal=False):
        out = []
        qid, sender, rcpts, size, qmgr = self._submission(out, internal)
        pending = []
        bounced = False
        for rc in rcpts:
            st = self.deliver_remote(out, qid, sender, rc, size, True, self.now)
            if st == "bounced":
                bounced = True
            elif st != "sent":
                pending.append((rc, None))
        if bounced:
            self.bounce_tail(out, qid, sender, None)
        if pending:
            self.schedule(300 + self.rr() * 400, self.r_retry, (qid, sender, pending, size, self.now, 1))
        else:
            out.append((K_QMGR_REMOVED, qmgr + "%s: removed\n" % qid))
        return out

    def s_internal_relay(self):
        return self.s_outbound(internal=True)

    QUEUE_LIFETIME = 5 * 86400            # maximal_queue_lifetime

    def r_retry(self, qid, sender, pending, size, arrived, attempt):
        """A deferred message's next attempt (qmgr, smtp). A recipient whose
        destination went dead fails the same way until the message expires."""
        rr = self.rr
        out = []
        qmgr = self.p_qmgr.get()
        out.append((K_QMGR_FROM, qmgr + "%s: from=<%s>, size=%d, nrcpt=%d (queue active)\n" % (qid, sender, size, len(pending))))
        if self.now - arrived >= self.QUEUE_LIFETIME:
            out.append((K_QMGR_EXPIRED, qmgr + "%s: from=<%s>, status=expired, returned to sender\n" % (qid, sender)))
            self.bounce_tail(out, qid, sender, None)
            out.append((K_QMGR_REMOVED, qmgr + "%s: removed\n" % qid))
            return out
        still = []
        bounced = False
        for rc, dead in pending:
            if dead is not None:
                self.emit_deferred(out, self.p_smtp.get(), qid, rc, dead, arrived)
                still.append((rc, dead))
                continue
            st = self.deliver_remote(out, qid, sender, rc, size, False, arrived)
            if st == "bounced":
                bounced = True
            elif st != "sent":
                still.append((rc, st if attempt >= 2 and rr() < 0.35 else None))
        if bounced:
            self.bounce_tail(out, qid, sender, None)
        if still:
            delay = min(300 * 2 ** attempt, 4000) * (0.8 + rr() * 0.4)
            self.schedule(delay, self.r_retry, (qid, sender, still, size, arrived, attempt + 1))
        else:
            out.append((K_QMGR_REMOVED, qmgr + "%s: removed\n" % qid))
        return out

    # ---- noise ---------------------------------------------------------------------------
    def s_sasl_bruteforce(self):
        rr = self.rr
        out = []
        namaddr, ip, helo = self.skew(self.bot_clients, 1.0)
        namaddr = "unknown[%s]" % ip
        smtpd = self.p_subm.get() if rr() < 0.6 else self.p_smtpd.get()
        out.append((K_SMTPD_CONNECT, smtpd + "connect from %s\n" % namaddr))
        user = self.pick(self.users) if rr() < 0.5 else self.pick(ROLES) + ("@" + self.hosted[0] if rr() < 0.5 else "")
        n = 1 if rr() < 0.8 else 2 + int(rr() * 2)
        for _ in range(n):
            out.append((K_SMTPD_WARNING, smtpd + "warning: %s: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=%s\n"
                        % (namaddr, user)))
        if rr() < 0.7:
            out.append((K_SMTPD_LOST, smtpd + "lost connection after AUTH from %s\n" % namaddr))
            out.append((K_SMTPD_DISCONNECT, smtpd + self.disconnect(namaddr, [("ehlo", 1, 1), ("auth", 0, n)])))
        else:
            out.append((K_SMTPD_DISCONNECT, smtpd + self.disconnect(namaddr, [("ehlo", 1, 1), ("auth", 0, n), ("quit", 1, 1)])))
        return out

    def s_scanner(self):
        rr = self.rr
        out = []
        namaddr, ip, helo = self.skew(self.bot_clients, 1.0)
        smtpd = self.p_smtpd.get()
        if rr() < 0.5:
            port = self.pick(self.ports)
            self.postscreen_front(out, ip, port, "old")
        out.append((K_SMTPD_CONNECT, smtpd + "connect from %s\n" % namaddr))
        x = rr()
        if x < 0.4:
            out.append((K_SMTPD_LOST, smtpd + "lost connection after CONNECT from %s\n" % namaddr))
            out.append((K_SMTPD_DISCONNECT, smtpd + "disconnect from %s commands=0/0\n" % namaddr))
        elif x < 0.55:
            out.append((K_SMTPD_LOST, smtpd + "lost connection after EHLO from %s\n" % namaddr))
            out.append((K_SMTPD_DISCONNECT, smtpd + self.disconnect(namaddr, [("ehlo", 1, 1)])))
        elif x < 0.7:
            out.append((K_SMTPD_LOST, smtpd + "warning: non-SMTP command from %s: GET / HTTP/1.1\n" % namaddr))
            out.append((K_SMTPD_DISCONNECT, smtpd + self.disconnect(namaddr, [("unknown", 0, 1)])))
        elif x < 0.8:
            out.append((K_SMTPD_LOST, smtpd + "improper command pipelining after CONNECT from %s: EHLO %s\\r\\n\n" % (namaddr, helo)))
            out.append((K_SMTPD_DISCONNECT, smtpd + self.disconnect(namaddr, [("ehlo", 1, 1), ("quit", 1, 1)])))
        elif x < 0.9:
            out.append((K_SMTPD_LOST, smtpd + "timeout after EHLO from %s\n" % namaddr))
            out.append((K_SMTPD_DISCONNECT, smtpd + self.disconnect(namaddr, [("ehlo", 1, 1)])))
        else:
            out.append((K_SMTPD_LOST, smtpd + "SSL_accept error from %s: lost connection\n" % namaddr))
            out.append((K_SMTPD_LOST, smtpd + "lost connection after STARTTLS from %s\n" % namaddr))
            out.append((K_SMTPD_DISCONNECT, smtpd + self.disconnect(namaddr, [("ehlo", 1, 1), ("starttls", 0, 1)])))
        return out

    def s_pickup(self):
        out = []
        qid = self.new_qid()
        uid, user = self.pick([(0, "root"), (33, "www-data"), (1000, "deploy"), (105, "nagios")])
        out.append((K_PICKUP, self.p_pickup.get() + "%s: uid=%d from=<%s>\n" % (qid, uid, user)))
        cleanup = self.p_cleanup.get()
        out.append((K_CLEANUP_MSGID, cleanup + "%s: message-id=<%s.%s@mx.example.org>\n" % (qid, self.stamp14(), qid)))
        qmgr = self.p_qmgr.get()
        out.append((K_QMGR_FROM, qmgr + "%s: from=<%s@mx.example.org>, size=%d, nrcpt=1 (queue active)\n"
                    % (qid, user, 400 + int(self.rr() * 3000))))
        out.append((K_SENT, self.p_local.get() + "%s: to=<root@mx.example.org>, orig_to=<%s>, relay=local, %s, dsn=2.0.0, "
                    "status=sent (delivered to mailbox)\n" % (qid, user, self.pick(self.delays_local))))
        out.append((K_QMGR_REMOVED, qmgr + "%s: removed\n" % qid))
        return out

    def t_stats(self):
        """anvil and scache statistics (every 10 minutes of log time)."""
        rr = self.rr
        out = []
        anvil = self.p_anvil.get()
        t = self.start + datetime.timedelta(seconds=max(0.0, self.now - rr() * 500))
        at = "%s %2d %s" % (MONTHS[t.month - 1], t.day, t.strftime("%H:%M:%S"))
        ip = self.skew(self.bot_clients, 1.0)[1]
        out.append((K_STATS, anvil + "statistics: max connection rate %d/60s for (smtpd:%s) at %s\n" % (2 + int(rr() * 30), ip, at)))
        out.append((K_STATS, anvil + "statistics: max connection count %d for (smtpd:%s) at %s\n" % (1 + int(rr() * 6), ip, at)))
        if rr() < 0.5:
            out.append((K_STATS, anvil + "statistics: max message rate %d/60s for (submission:%s) at %s\n"
                        % (1 + int(rr() * 12), self.pick(self.subm_clients)[1], at)))
        if rr() < 0.6:
            out.append((K_STATS, anvil + "statistics: max newtls rate %d/60s for (smtpd:%s) at %s\n" % (1 + int(rr() * 6), ip, at)))
        out.append((K_STATS, anvil + "statistics: max cache size %d at %s\n" % (5 + int(rr() * 120), at)))
        if rr() < 0.7:
            sc = self.p_scache.get()
            hits, miss = int(rr() * 300), int(rr() * 200) + 1
            out.append((K_STATS, sc + "statistics: start interval %s\n" % at))
            out.append((K_STATS, sc + "statistics: domain lookup hits=%d miss=%d success=%d%%\n" % (hits, miss, 100 * hits // (hits + miss))))
            hits, miss = int(rr() * 200), int(rr() * 300) + 1
            out.append((K_STATS, sc + "statistics: address lookup hits=%d miss=%d success=%d%%\n" % (hits, miss, 100 * hits // (hits + miss))))
            out.append((K_STATS, sc + "statistics: max simultaneous domains=%d addresses=%d connection=%d\n"
                        % (1 + int(rr() * 8), 2 + int(rr() * 12), 2 + int(rr() * 16))))
        return out

    def t_reload(self):
        """The daily "postfix reload" (logrotate): every service gets new processes."""
        m = self.p_master.get()
        for p in self.all_pids:
            if p is not self.p_master:
                p.respawn()
        ps = "%s postfix/postfix-script[%d]: " % (self.hostname, self.new_pid())
        return [(K_MASTER, ps + "refreshing the Postfix mail system\n"),
                (K_MASTER, m + "reload -- version 3.7.11, configuration /etc/postfix\n")]

    # ---- scheduling ----------------------------------------------------------------------
    def schedule(self, seconds, fn, args):
        due = self.lineno + int(seconds * self.lines_per_sec)
        self.heap_seq += 1
        heapq.heappush(self.heap, (due, self.heap_seq, fn, args))

    def new_session(self):
        h = self.heap
        if h and h[0][0] <= self.lineno:
            _, _, fn, args = heapq.heappop(h)
            s = fn(*args)
        else:
            s = self.wpick(self.sess_items, self.sess_cw)()
        s.reverse()
        return s

    # ---- time -----------------------------------------------------------------------------
    def minute_counts(self):
        """Lines per minute over the days: a daily rhythm (quiet at night, busy in the
        afternoon, quieter at weekends) with some noise; sums to N."""
        R = random.Random("minutes/%d" % self.seed)
        M = self.days * 1440
        w = []
        for m in range(M):
            hour = (m % 1440) / 60.0
            day = (self.start + datetime.timedelta(minutes=m)).weekday()
            x = 1.0 + 0.65 * math.sin((hour - 9.0) / 24.0 * 2 * math.pi)
            if day >= 5:
                x *= 0.7
            w.append(max(0.05, x * (0.85 + 0.3 * R.random())))
        tot = sum(w)
        counts = [int(self.N * x / tot) for x in w]
        rest = self.N - sum(counts)
        i = 0
        while rest > 0:
            counts[(i * 7919) % M] += 1
            rest -= 1
            i += 1
        return counts

    def run(self, write):
        """Write the N lines (write gets str chunks); returns the number written."""
        K = 6                                 # sessions open at a time
        streams = [self.new_session() for _ in range(K)]
        rr = self.rr
        syslog = self.fmt == "syslog"
        start = self.start
        start_sod = start.hour * 3600 + start.minute * 60 + start.second
        new_session = self.new_session
        schedule = self.schedule
        tally = self.tally
        buf = []
        kinds = []
        bapp = buf.append
        kapp = kinds.append
        emitted = 0
        urand = random.Random("usec/%d" % self.seed)    # microseconds: not from R
        for minute, cnt in enumerate(self.minute_counts()):
            if cnt == 0:
                continue
            if minute % 10 == 0:
                schedule(0, self.t_stats, ())
            if minute % 1440 == 380:
                schedule(0, self.t_reload, ())
            t_min = minute * 60
            d, rem = divmod(start_sod + t_min, 86400)
            dt = start + datetime.timedelta(seconds=t_min)
            if syslog:
                prefix = "%s %2d %02d:%02d:" % (MONTHS[dt.month - 1], dt.day, dt.hour, dt.minute)
            else:
                prefix = dt.strftime("%Y-%m-%dT%H:%M:")
            done = 0
            for sec in range(60):
                n = ((sec + 1) * cnt) // 60 - done
                if n <= 0:
                    continue
                done += n
                if syslog:
                    ts = "%s%02d " % (prefix, sec)
                else:
                    ts = "%s%02d." % (prefix, sec)
                    step = 1000000 // n
                    us = 0
                    ur = urand.random
                for _ in range(n):
                    i = int(rr() * K)
                    s = streams[i]
                    if not s:
                        self.now = t_min + sec
                        self.lineno = emitted
                        s = streams[i] = new_session()
                        while not s:
                            s = streams[i] = new_session()
                    k, text = s.pop()
                    kapp(k)
                    if syslog:
                        bapp(ts)
                    else:
                        bapp("%s%06d+00:00 " % (ts, us + int(ur() * step)))
                        us += step
                    bapp(text)
                emitted += n
            if len(buf) >= 200000:
                write("".join(buf))
                tally(kinds)
                buf.clear()
                kinds.clear()
        if buf:
            write("".join(buf))
            tally(kinds)
        return emitted

    def tally(self, kinds):
        counts = self.counts
        for k, n in collections.Counter(kinds).items():
            counts[k] += n


def parse_start(s):
    for fmt in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(s, fmt)
        except ValueError:
            pass
    raise argparse.ArgumentTypeError("bad --start %r (YYYY-MM-DD[THH:MM:SS])" % s)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Write a synthetic, realistic Postfix 3.7 mail log.")
    ap.add_argument("--lines", type=int, required=True, help="number of lines to write")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--format", choices=["syslog", "rfc3339"], default="syslog",
                    help="time stamps: 'Nov  1 19:57:01' (default) or '2026-11-01T19:57:01.123456+00:00'")
    ap.add_argument("--gzip", action="store_true", help="gzip-compress the output")
    ap.add_argument("--days", type=int, default=8, help="days the log spans (default 8)")
    ap.add_argument("--start", type=parse_start, default=parse_start("2026-10-28"),
                    help="first day, YYYY-MM-DD[THH:MM:SS] (default 2026-10-28)")
    ap.add_argument("--hostname", default="mx", help="syslog host name (default mx)")
    ap.add_argument("-o", "--output", required=True, help="output file, '-' for standard output")
    ap.add_argument("-q", "--quiet", action="store_true", help="no summary on standard error")
    a = ap.parse_args(argv)
    if a.lines < 0 or a.days < 1:
        ap.error("--lines must be >= 0 and --days >= 1")

    t0 = time.monotonic()
    gen = Gen(a.lines, a.seed, a.format, a.days, a.start, a.hostname)
    if a.output == "-":
        raw = sys.stdout.buffer
        tmp = None
    elif os.path.exists(a.output) and not os.path.isfile(a.output):
        raw = open(a.output, "wb", buffering=0)      # /dev/null, a FIFO: written in place
        tmp = None
    else:
        tmp = a.output + ".tmp%d" % os.getpid()
        raw = open(tmp, "wb", buffering=0)
    try:
        if a.gzip:
            gz = gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0)
            sink = gz
        else:
            gz = None
            sink = raw
        total = [0]

        def write(s):
            b = s.encode("ascii")
            total[0] += len(b)
            sink.write(b)
        n = gen.run(write)
        if gz is not None:
            gz.close()
        if tmp is not None:
            raw.close()
            os.replace(tmp, a.output)     # a complete file or none
            tmp = None
        elif raw is sys.stdout.buffer:
            raw.flush()
        else:
            raw.close()
    finally:
        if tmp is not None:
            raw.close()
            try:
                os.unlink(tmp)
            except OSError:
                pass
    dt = time.monotonic() - t0
    if not a.quiet:
        c = gen.counts
        replies = sum(x for k, x in enumerate(c) if KIND_REPLY[k])
        nonconf = sum(x for k, x in enumerate(c) if KIND_NONCONF[k])
        e = sys.stderr
        e.write("gen_maillog: %d lines, %.1f MB uncompressed, in %.1f s (%.0f lines/s), seed %d, format %s%s\n"
                % (n, total[0] / 1e6, dt, n / dt if dt > 0 else 0, a.seed, a.format, ", gzip" if a.gzip else ""))
        w = max(len(x) for x in KIND_NAMES)
        for k in sorted(range(len(c)), key=lambda k: (-KIND_REPLY[k], -c[k])):
            if c[k]:
                e.write("  %-*s %9d  %5.2f%%\n" % (w, KIND_NAMES[k], c[k], 100.0 * c[k] / max(n, 1)))
        e.write("  %-*s %9d  %5.2f%%\n" % (w, "= reply lines", replies, 100.0 * replies / max(n, 1)))
        e.write("  %-*s %9d  %5.2f%% of the replies\n" % (w, "= non-conforming replies", nonconf,
                                                         100.0 * nonconf / max(replies, 1)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
