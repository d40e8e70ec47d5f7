# SPDX-License-Identifier: ISC
"""fakesmtp.py - a scriptable fake SMTP server on loopback for tests of
"smtpreply probe" (Python 3 standard library only).

A FakeSmtp listens on 127.0.0.1 (or host, "::1" say) and a port the kernel picks, and answers each
connection in a thread of its own. By default it behaves (greeting, EHLO,
MAIL, RCPT, DATA, NOOP, RSET, VRFY, QUIT answered as a correct server would);
`replies` overrides the reply to a command, chosen by the first matching
prefix (case-insensitive) of the command line: a value is the bytes to send
(sent in one write), or a callable(conn, line) that does whatever it likes on
the socket (split a reply, stall, close, send without end) and returns True
to keep the session going. `greeting` likewise (bytes, or callable(conn)).
Every line received is kept in .received, per session, in order.

    with FakeSmtp(replies={"RCPT TO:<smtpreply-no-such-user": b"550 4.7.1 No\\r\\n"}) as f:
        run smtpreply probe 127.0.0.1:%d % f.port
        f.received  # [[b"EHLO ...", b"MAIL FROM:<...>", ...], ...]
"""

import socket
import threading
import time

GREETING = b"220 fake.test ESMTP fakesmtp\r\n"
EHLO = (b"250-fake.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
        b"250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n")
DEFAULTS = [
    ("EHLO ", EHLO),
    ("EHLO", b"501 5.5.2 Syntax: EHLO hostname\r\n"),
    ("HELO ", b"250 fake.test\r\n"),
    ("HELO", b"501 5.5.2 Syntax: HELO hostname\r\n"),
    ("MAIL FROM:<>", b"250 2.1.0 Ok\r\n"),
    ("MAIL FROM:<", b"250 2.1.0 Ok\r\n"),
    ("RCPT TO:<", b"250 2.1.5 Ok\r\n"),
    ("DATA", b"354 End data with <CR><LF>.<CR><LF>\r\n"),
    ("NOOP", b"250 2.0.0 Ok\r\n"),
    ("RSET", b"250 2.0.0 Ok\r\n"),
    ("VRFY", b"252 2.0.0 Cannot VRFY user\r\n"),
    ("QUIT", b"221 2.0.0 Bye\r\n"),
]


class FakeSmtp:
    def __init__(self, replies=None, greeting=GREETING, host="127.0.0.1"):
        self.replies = list((replies or {}).items())
        self.greeting = greeting
        self.received = []          # one list of lines per session
        self.sessions = 0
        self.lock = threading.Lock()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.conns = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        self.sock.settimeout(0.2)
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.sessions += 1
                lines = []
                self.received.append(lines)
                self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn, lines), daemon=True).start()

    def _reply_for(self, line):
        text = line.decode("latin-1")
        for prefix, reply in self.replies + DEFAULTS:
            if text.upper().startswith(prefix.upper()):
                return reply
        return b"502 5.5.1 Error: command not recognized\r\n"

    def _serve(self, conn, lines):
        buf = b""
        in_data = False
        rcpts = False
        try:
            if callable(self.greeting):
                if not self.greeting(conn):
                    return
            else:
                conn.sendall(self.greeting)
            while not self.stopping:
                while b"\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                raw, buf = buf.split(b"\n", 1)
                line = raw.rstrip(b"\r")
                lines.append(line)
                if in_data:
                    if line == b".":
                        in_data = False
                        conn.sendall(b"250 2.0.0 Ok: queued\r\n")
                    continue
                if line.upper().startswith(b"RCPT"):
                    rcpts = True
                elif line.upper().startswith(b"MAIL") or line.upper() == b"RSET":
                    rcpts = False
                reply = self._reply_for(line)
                if line.upper() == b"DATA" and not rcpts and not callable(reply):
                    reply = b"503 5.5.1 Error: need RCPT command\r\n"
                if callable(reply):
                    if not reply(conn, line):
                        return
                    continue
                conn.sendall(reply)
                if reply.startswith(b"354"):
                    in_data = True
                if line.upper() == b"QUIT":
                    return
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def close(self):
        self.stopping = True
        try:
            self.sock.close()
        except OSError:
            pass
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                try:
                    c.close()
                except OSError:
                    pass
        self.thread.join(2)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


# ---- behaviours for `replies` values -------------------------------------------

def split(*parts, pause=0.15):
    """Send the reply in pieces, pause seconds apart (separate TCP segments)."""
    def act(conn, line):
        for p in parts:
            conn.sendall(p)
            time.sleep(pause)
        return True
    return act


def stall_after(data=b""):
    """Send data (maybe nothing), then never another byte; the session is held
    until the client goes away or the server stops."""
    def act(conn, line):
        if data:
            conn.sendall(data)
        conn.settimeout(0.2)
        while True:
            try:
                if not conn.recv(65536):
                    return False
            except socket.timeout:
                continue
            except OSError:
                return False
    return act


def close_after(data):
    """Send data, then close the connection."""
    def act(conn, line):
        conn.sendall(data)
        conn.shutdown(socket.SHUT_RDWR)
        return False
    return act


def endless_line(size=10 * 1024 * 1024, chunk=65536):
    """Send size bytes of one line (no line ending) as fast as the client
    reads them, then close."""
    def act(conn, line):
        block = b"250 " + b"x" * (chunk - 4)
        sent = 0
        try:
            while sent < size:
                conn.sendall(block if sent == 0 else b"x" * chunk)
                sent += chunk
        except OSError:
            return False
        return False
    return act


def trickle(data=b"250-", every=0.3):
    """Send one byte of data every `every` seconds, over and over, forever
    (a reply that never ends, each byte resetting a naive read timeout)."""
    def act(conn, line):
        try:
            while True:
                for b in data:
                    conn.sendall(bytes([b]))
                    time.sleep(every)
        except OSError:
            return False
    return act


class ReplaySmtp(FakeSmtp):
    """Plays back what a real server answered, session by session: scripts is
    one list per session of the replies to send (bytes, line endings
    included; the first is the greeting), each after one command line is
    received. None in a script: send nothing more, hold the session (a
    stall). At the end of a script the connection is closed."""

    def __init__(self, scripts):
        self.scripts = list(scripts)
        super().__init__()

    def _serve(self, conn, lines):
        with self.lock:
            n = self.sessions - 1
        script = self.scripts[n] if n < len(self.scripts) else []
        buf = b""
        try:
            for i, reply in enumerate(script):
                if i > 0:
                    while b"\n" not in buf:
                        chunk = conn.recv(65536)
                        if not chunk:
                            return
                        buf += chunk
                    raw, buf = buf.split(b"\n", 1)
                    lines.append(raw.rstrip(b"\r"))
                if reply is None:
                    stall_after()(conn, b"")
                    return
                conn.sendall(reply)
        except OSError:
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass
