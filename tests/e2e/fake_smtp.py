"""fake_smtp.py - a scripted SMTP server for the tests, on a loopback port.

Python 3 standard library only. Stands in for the remote servers Postfix's
SMTP client delivers to: it answers RCPT TO with the reply scripted for the
recipient's local part (anything, however broken: "572 relay denied"), every
other command with a plain success, and keeps each message it accepts (the
envelope and the data), so that a test can read the DSN Postfix sends back.

    srv = FakeSmtp({"relay": ["572 relay denied"]}).start()   # srv.port
    ...
    srv.messages        # [(mail_from, [rcpts], data bytes)]
    srv.stop()
"""

import socket
import threading


class FakeSmtp:
    def __init__(self, rcpt_replies, hostname="fake.test.invalid"):
        self.rcpt_replies = dict(rcpt_replies)
        self.hostname = hostname
        self.messages = []
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stopping = False

    def start(self):
        threading.Thread(target=self._accept, daemon=True).start()
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

    def _serve(self, conn):
        f = conn.makefile("rb")

        def send(*lines):
            conn.sendall(b"".join(l.encode() + b"\r\n" for l in lines))

        mail_from, rcpts = None, []
        try:
            send("220 %s ESMTP fake" % self.hostname)
            for raw in f:
                line = raw.rstrip(b"\r\n").decode("utf-8", "replace")
                verb = line[:4].upper()
                if verb in ("EHLO", "HELO"):
                    send("250 %s" % self.hostname)
                elif verb == "MAIL":
                    mail_from, rcpts = line[10:].strip(), []
                    send("250 2.1.0 Ok")
                elif verb == "RCPT":
                    addr = line[8:].strip().strip("<>")
                    reply = self.rcpt_replies.get(addr.split("@")[0])
                    if reply is None:
                        rcpts.append(addr)
                        send("250 2.1.5 Ok")
                    else:
                        send(*reply)
                elif verb == "DATA":
                    if not rcpts:
                        send("554 5.5.1 Error: no valid recipients")
                        continue
                    send("354 End data with <CR><LF>.<CR><LF>")
                    data = []
                    for d in f:
                        if d.rstrip(b"\r\n") == b".":
                            break
                        data.append(d[1:] if d.startswith(b"..") else d)
                    with self.lock:
                        self.messages.append((mail_from, list(rcpts), b"".join(data)))
                    send("250 2.0.0 Ok: queued")
                elif verb == "RSET":
                    mail_from, rcpts = None, []
                    send("250 2.0.0 Ok")
                elif verb == "QUIT":
                    send("221 2.0.0 Bye")
                    return
                else:
                    send("250 2.0.0 Ok")
        except OSError:
            return
        finally:
            try:
                conn.close()
            except OSError:
                pass
