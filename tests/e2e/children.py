#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""children.py - milters that run behind smtpreply-milter in the proxy tests.

    children.py KIND SOCKET

KIND "bad" is a pymilter (python3-milter, Debian's libmilter binding) child
whose replies are the ones seen in the field, chosen by the recipient's local
part:

    mismatch@  550 4.7.1 Recipient address rejected: Access denied
    spf@       550 4.7.23 SPF fail: sender not permitted (smf-spf's case)
    c557@      557 5.7.1 Too many duplicate messages
    grey@, pct@  451 4.7.1 Greylisted, 100% sure, come back later
    nocode@    SMFIS_REJECT without a reply
    slow@      sleeps 5 s before answering (a timeout)

and, by Subject at end of message: "modify" (adds and changes headers, adds and
deletes recipients, changes the sender, replaces the body), "quarantine"
(quarantines), "crash" (the process exits at once, mid-message).

KIND "macros" asks, with SMFIR_SETSYMLIST, for two macros Postfix does not send
by default ({client_connections} at connect, {client_addr} at MAIL) and rejects
the recipient macros@ with what it received: "550 5.7.1 macros
client_connections=N client_addr=A" ("none" for a macro it did not get). KIND
"nolist" is the same child without a list of its own, answering nolist@.

KIND "rcptrej" negotiates SMFIP_RCPT_REJ (the recipients the MTA rejected
itself are sent too) and logs each recipient it is given with its
{rcpt_mailer} ("rcptrej saw <to> mailer=error" for a rejected one),
continuing.

KIND "rejectall" rejects every recipient with "550 5.7.1 Rejected by rejectall"
(used with evaluate = true). KIND "raw" is not libmilter: it speaks the protocol
itself to send what libmilter would never let through: at RCPT for nodash@ a
multi-line reply without the '-' continuation marks; for violate@ a header
modification at RCPT (a protocol violation).

SOCKET is "inet:PORT@127.0.0.1". The child logs one line per decision on
standard output.
"""

import os
import socket
import struct
import sys
import threading
import time


def log(*a):
    print(*a, flush=True)


def run_pymilter(kind, sock):
    import Milter

    class Child(Milter.Base):
        def __init__(self):
            self.rcpts = []

        def envfrom(self, f, *args):
            self.sender = f
            self.rcpts = []
            return Milter.CONTINUE

        def envrcpt(self, to, *args):
            local = to.strip("<>").split("@")[0]
            if kind == "rejectall":
                self.setreply("550", "5.7.1", "Rejected by rejectall")
                log("rejectall", to)
                return Milter.REJECT
            if local == "mismatch":
                self.setreply("550", "4.7.1", "Recipient address rejected: Access denied")
                return Milter.REJECT
            if local == "spf":
                self.setreply("550", "4.7.23", "SPF fail: sender not permitted")
                return Milter.REJECT
            if local == "c557":
                self.setreply("557", "5.7.1", "Too many duplicate messages")
                return Milter.REJECT
            if local in ("grey", "pct"):
                # pymilter refuses a lone %; libmilter itself does not: a
                # C milter sends it as is. Call the binding underneath.
                self._ctx.setreply("451", "4.7.1", "Greylisted, 100% sure, come back later")
                return Milter.TEMPFAIL
            if local == "nocode":
                return Milter.REJECT
            if local == "slow":
                log("slow: sleeping")
                time.sleep(5)
                return Milter.CONTINUE
            self.rcpts.append(to)
            return Milter.CONTINUE

        def header(self, name, value):
            if name.lower() == "subject":
                self.subject = value
            return Milter.CONTINUE

        def eom(self):
            subject = getattr(self, "subject", "")
            if "crash" in subject:
                log("crash: exiting")
                os._exit(3)
            if "modify" in subject:
                self.addheader("X-Child", "added by child")
                self.chgheader("Subject", 1, "changed by child")
                self.addrcpt("<added@example.test>")
                self.delrcpt("<removed@example.test>")
                self.chgfrom("<newsender@example.test>")
                self.replacebody(b"Body replaced by the child.\r\n")
                log("modify: done")
            if "quarantine" in subject:
                self.quarantine("held by child: suspicious")
                log("quarantine: done")
            return Milter.CONTINUE

    Milter.factory = Child
    Milter.set_flags(Milter.ADDHDRS | Milter.CHGHDRS | Milter.ADDRCPT | Milter.DELRCPT
                     | Milter.CHGBODY | Milter.QUARANTINE | Milter.CHGFROM)
    log("child %s listening on %s" % (kind, sock))
    Milter.runmilter("child-" + kind, sock, 60)


def run_macros(kind, sock):
    """A child that reports the macros it received (see the docstring)."""
    import Milter

    class MacroChild(Milter.Base):
        def negotiate(self, opts):
            # Milter.Base.setsymlist (and so @Milter.symlist) hands the
            # binding bytes, which python3-milter 1.0.5 refuses: call the
            # binding itself.
            if kind == "macros":
                self._ctx.setsymlist(Milter.M_CONNECT, "{client_connections}")
                self._ctx.setsymlist(Milter.M_ENVFROM, "{client_addr}")
            offered = opts[1]
            rc = Milter.Base.negotiate(self, opts)
            if kind == "rcptrej":
                opts[1] |= offered & Milter.P_RCPT_REJ
            return rc

        def connect(self, hostname, family, hostaddr):
            return Milter.CONTINUE

        def envfrom(self, f, *args):
            return Milter.CONTINUE

        def envrcpt(self, to, *args):
            if kind == "rcptrej":
                log("rcptrej saw %s mailer=%s" % (to, self.getsymval("{rcpt_mailer}")))
                return Milter.CONTINUE
            if to.strip("<>").split("@")[0] != kind:
                return Milter.CONTINUE
            seen = " ".join("%s=%s" % (m.strip("{}"), self.getsymval(m) or "none")
                            for m in ("{client_connections}", "{client_addr}"))
            log(kind, seen)
            self.setreply("550", "5.7.1", "%s %s" % (kind, seen))
            return Milter.REJECT

    Milter.factory = MacroChild
    Milter.set_flags(Milter.SETSYMLIST)
    log("child %s listening on %s" % (kind, sock))
    Milter.runmilter("child-" + kind, sock, 60)


# ---- a raw child: the protocol by hand --------------------------------------

def packet(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data


def recv_packet(conn):
    hdr = b""
    while len(hdr) < 4:
        k = conn.recv(4 - len(hdr))
        if not k:
            return None, None
        hdr += k
    n = struct.unpack(">I", hdr)[0]
    data = b""
    while len(data) < n:
        k = conn.recv(n - len(data))
        if not k:
            return None, None
        data += k
    return data[:1], data[1:]


def raw_session(conn):
    with conn:
        while True:
            cmd, data = recv_packet(conn)
            if cmd is None or cmd == b"Q":
                return
            if cmd == b"O":
                # Version 6, ADDHDRS, no steps declined.
                conn.sendall(packet(b"O", struct.pack(">III", 6, 1, 0)))
            elif cmd in (b"D", b"A"):
                continue    # macros, abort: no reply
            elif cmd == b"R":
                rcpt = data.split(b"\0")[0].decode("latin-1")
                local = rcpt.strip("<>").split("@")[0]
                if local == "nodash":
                    conn.sendall(packet(b"y", b"550 5.7.1 This relay was retired.\r\n"
                                        b"550 5.7.1 Please use mx.example.org instead.\0"))
                    log("raw: multi-line without dashes")
                elif local == "violate":
                    conn.sendall(packet(b"h", b"X-Early\0too early\0"))
                    log("raw: modification at RCPT")
                else:
                    conn.sendall(packet(b"c"))
            else:
                conn.sendall(packet(b"c"))


def run_raw(sock):
    port, host = sock[len("inet:"):].split("@")
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, int(port)))
    srv.listen(16)
    log("child raw listening on %s" % sock)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=raw_session, args=(conn,), daemon=True).start()


def main():
    kind, sock = sys.argv[1], sys.argv[2]
    if kind == "raw":
        run_raw(sock)
    elif kind in ("macros", "nolist", "rcptrej"):
        run_macros(kind, sock)
    else:
        run_pymilter(kind, sock)


if __name__ == "__main__":
    main()
