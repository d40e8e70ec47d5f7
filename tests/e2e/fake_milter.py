# SPDX-License-Identifier: ISC
"""fake_milter.py - a scripted milter for the tests, on a loopback port.

Python 3 standard library only. Speaks just enough of the milter protocol
(version 6) to answer every step "continue", except that a recipient whose
address contains a key of `replies` gets that reply verbatim (SMFIR_REPLYCODE),
whatever it is: the tests use it to make Postfix send replies that
smtpreply-milter itself never would (a multi-line reply whose lines disagree,
a non-standard code), as third-party milters do.

    m = FakeMilter({"multi@": "557-5.7.1 line one\\r\\n557 4.7.1 line two"})
    m.start()            # m.port
    ...
    m.stop()
"""

import socket
import struct
import threading

# Commands after which the MTA expects no answer.
_NO_REPLY = {b"D", b"A"}


class FakeMilter:
    def __init__(self, replies):
        self.replies = dict(replies)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.stopping = True
        try:
            self.sock.close()
        except OSError:
            pass

    def _accept(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    @staticmethod
    def _read(conn, n):
        buf = b""
        while len(buf) < n:
            chunk = conn.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    @staticmethod
    def _send(conn, cmd, data=b""):
        conn.sendall(struct.pack(">I", len(data) + 1) + cmd + data)

    def _serve(self, conn):
        try:
            with conn:
                while True:
                    (n,) = struct.unpack(">I", self._read(conn, 4))
                    packet = self._read(conn, n)
                    cmd, data = packet[:1], packet[1:]
                    if cmd == b"O":
                        # version 6, no actions, every step and reply wanted
                        self._send(conn, b"O", struct.pack(">III", 6, 0, 0))
                    elif cmd == b"Q":
                        return
                    elif cmd in _NO_REPLY:
                        continue
                    elif cmd == b"R":
                        rcpt = data.split(b"\0")[0].decode("utf-8", "replace")
                        for key, reply in self.replies.items():
                            if key in rcpt:
                                self._send(conn, b"y", reply.encode() + b"\0")
                                break
                        else:
                            self._send(conn, b"c")
                    else:
                        self._send(conn, b"c")
        except (EOFError, OSError):
            return
