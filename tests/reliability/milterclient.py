# SPDX-License-Identifier: ISC
"""milterclient.py - the MTA side of the milter protocol (version 6), stdlib only.

What Postfix and sendmail do when they talk to a milter, byte for byte, so
that the reliability suite can drive smtpreply-milter directly: option
negotiation, macros, connect, HELO, MAIL, RCPT, DATA, headers, end of
message, abort and quit, each step honouring the steps the milter declined
(SMFIP_NO*). Raw packets can be sent too, for the protocol fault cases.

A packet is a 4-byte big-endian length (command byte included), the command
byte and its data. Replies: c continue, a accept, r reject, t tempfail,
d discard, y reply code and text, q quarantine (at end of message, before
the final reply), and the other modification actions.
"""

import socket
import struct

# Protocol steps (SMFIP_*) and actions (SMFIF_*).
NOCONNECT, NOHELO, NOMAIL, NORCPT = 0x1, 0x2, 0x4, 0x8
NOBODY, NOHDRS, NOEOH, NR_HDR = 0x10, 0x20, 0x40, 0x80
NOUNKNOWN, NODATA, SKIP, RCPT_REJ = 0x100, 0x200, 0x400, 0x800
NR_FLAGS = 0x1000 | 0x2000 | 0x4000 | 0x8000 | 0x10000 | 0x20000 | 0x40000 | 0x80000
ALL_STEPS = 0x1FFFFF
ALL_ACTIONS = 0x1FF
QUARANTINE = 0x20

# Replies that end a step.
FINAL = set(b"acrtdy")
# Modification actions a milter may send at end of message before the final reply.
MODIFIERS = set(b"+-=bhimqels")


class MilterError(Exception):
    pass


def packet(cmd, data=b""):
    """One packet: length, command byte, data."""
    if isinstance(cmd, str):
        cmd = cmd.encode()
    return struct.pack(">I", len(data) + 1) + cmd + data


def cstr(*values):
    """NUL-terminated strings, joined (bytes or str, str as latin-1)."""
    out = b""
    for v in values:
        if isinstance(v, str):
            v = v.encode("latin-1")
        out += v + b"\0"
    return out


class Reply:
    """What the milter answered to one step."""

    def __init__(self, code, data=b"", mods=()):
        self.code = code          # 'c', 'a', 'r', 't', 'd', 'y', or None (no reply)
        self.data = data
        self.mods = list(mods)    # (code, data) of modification actions before it

    @property
    def text(self):
        return self.data.rstrip(b"\0").decode("latin-1")

    def __repr__(self):
        return "Reply(%r, %r, mods=%r)" % (self.code, self.text, self.mods)


class MilterClient:
    """One connection to the milter, as an MTA makes it."""

    def __init__(self, family, address, timeout=10.0):
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(address)
        if family in (socket.AF_INET, socket.AF_INET6):
            # as Postfix: a step's packets are not held back by Nagle
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.steps = 0            # steps the milter asked for (its SMFIP_NO* bits)
        self.actions = 0

    @classmethod
    def tcp(cls, port, host="127.0.0.1", timeout=10.0):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        return cls(fam, (host, port), timeout)

    @classmethod
    def unix(cls, path, timeout=10.0):
        return cls(socket.AF_UNIX, path, timeout)

    # ---- raw I/O -------------------------------------------------------
    def send_raw(self, data):
        self.sock.sendall(data)

    def _recv_exact(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise MilterError("connection closed by the milter")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_packet(self):
        (length,) = struct.unpack(">I", self._recv_exact(4))
        if length < 1 or length > 1 << 20:
            raise MilterError("bad length %d from the milter" % length)
        body = self._recv_exact(length)
        return body[:1], body[1:]

    def closed_by_peer(self, timeout=5.0):
        """True when the milter closed the connection (EOF or reset)."""
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def reply(self):
        """Read up to the final reply of a step (modifications collected)."""
        mods = []
        while True:
            cmd, data = self.read_packet()
            c = cmd[0]
            if c in FINAL:
                return Reply(chr(c), data, mods)
            if c in MODIFIERS:
                mods.append((chr(c), data))
                continue
            if c == ord("p"):     # progress
                continue
            raise MilterError("unexpected reply %r" % cmd)

    def step(self, cmd, data=b"", skip_bit=0):
        """Send a step unless the milter declined it; its reply (or None)."""
        if skip_bit and (self.steps & skip_bit):
            return None
        self.send_raw(packet(cmd, data))
        return self.reply()

    # ---- the protocol ----------------------------------------------------
    def negotiate(self, actions=ALL_ACTIONS, steps=ALL_STEPS, version=6):
        self.send_raw(packet("O", struct.pack(">III", version, actions, steps)))
        cmd, data = self.read_packet()
        if cmd != b"O" or len(data) < 12:
            raise MilterError("bad negotiation reply %r %r" % (cmd, data[:12]))
        ver, self.actions, self.steps = struct.unpack(">III", data[:12])
        return ver, self.actions, self.steps

    def macros(self, for_cmd, pairs):
        """Macros for the next step (no reply)."""
        data = for_cmd.encode() + b"".join(cstr(k, v) for k, v in pairs)
        self.send_raw(packet("D", data))

    def connect(self, hostname, addr="192.0.2.7", port=25, family="4"):
        data = cstr(hostname)
        if family == "U":
            data += b"U"
        else:
            data += family.encode() + struct.pack(">H", port) + cstr(addr)
        return self.step("C", data, NOCONNECT)

    def helo(self, name):
        return self.step("H", cstr(name), NOHELO)

    def mail(self, sender, *esmtp):
        return self.step("M", cstr(sender, *esmtp), NOMAIL)

    def rcpt(self, rcpt, *esmtp):
        return self.step("R", cstr(rcpt, *esmtp), NORCPT)

    def data(self):
        return self.step("T", b"", NODATA)

    def header(self, name, value):
        return self.step("L", cstr(name, value), NOHDRS)

    def eoh(self):
        return self.step("N", b"", NOEOH)

    def body(self, chunk):
        return self.step("B", chunk if isinstance(chunk, bytes) else chunk.encode(), NOBODY)

    def eom(self):
        self.send_raw(packet("E"))
        return self.reply()

    def abort(self):
        self.send_raw(packet("A"))

    def quit(self):
        try:
            self.send_raw(packet("Q"))
        except OSError:
            pass
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def session(client, sender="<s@client.example>", rcpts=("<r@example.org>",),
            headers=(("Subject", "test"),), qid="4QTEST1", helo="client.example",
            hostname="client.example", addr="192.0.2.7", macros=()):
    """A whole message as Postfix sends it; the replies of every step, in order.

    Stops at the first step whose reply ends the transaction or connection
    (reject, tempfail, discard, accept), as an MTA would.
    """
    out = []

    def done(r):
        out.append(r)
        return r is not None and r.code in ("r", "t", "d", "a", "y")

    client.negotiate()
    client.macros("C", [("j", "mx.example.org"), ("{daemon_name}", "smtpd")] + list(macros))
    if done(client.connect(hostname, addr)):
        return out
    if done(client.helo(helo)):
        return out
    client.macros("M", [("i", qid)])
    if done(client.mail(sender)):
        return out
    n_ok = 0
    for r in rcpts:
        client.macros("R", [("i", qid)])
        rr = client.rcpt(r)
        out.append(rr)
        if rr is None or rr.code == "c":
            n_ok += 1
    if n_ok == 0:
        return out
    if done(client.data()):
        return out
    for name, value in headers:
        if done(client.header(name, value)):
            return out
    if done(client.eoh()):
        return out
    out.append(client.eom())
    return out
