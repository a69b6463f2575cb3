#!/usr/bin/env python3
"""fakesmtp.py -- the scriptable remote mail servers of the integration test.

Reads the fakehosts table (see its header) and listens on ADDRESS:25 for
every host there, answering like a plain ESMTP server until the stage the
table names, where it gives the table's reply (multi-line replies as real
servers send them). It keeps no mail and must never listen outside
127.0.0.0/8: it runs inside the test's network namespace. Standard library
only. It prints "ready" once every socket listens, so the runner can wait
for that instead of sleeping.
"""

import socket
import socketserver
import sys
import threading

PORT = 25
STAGES = ("banner", "helo", "mail", "rcpt", "data", "eod")


def load_hosts(path):
    hosts = []
    with open(path, encoding="utf-8") as table:
        for line in table:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            domain, address, stage, times, reply = line.split(None, 4)
            if not address.startswith("127."):
                sys.exit(f"fakesmtp: {address} is not a loopback address")
            hosts.append({"domain": domain, "address": address, "stage": stage,
                          "times": int(times), "reply": reply.strip()})
    return hosts


def reply_lines(template, rcpt=""):
    text = template.replace("{rcpt}", rcpt)
    return [part.encode() + b"\r\n" for part in text.split("\\n")]


class Session(socketserver.StreamRequestHandler):
    # Attempts per (sender, recipient) already refused, shared by all
    # connections to one host: greylisting is keyed on that pair.
    def handle(self):
        host = self.server.host
        stage = host["stage"]
        if stage == "silent":
            self.rfile.read()       # until Exim gives up and closes
            return
        name = f"mx.{host['domain']}"
        if stage == "banner":
            self.send(reply_lines(host["reply"]))
            return
        self.send([f"220 {name} ESMTP fake\r\n".encode()])
        sender = ""
        rcpts = []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command = line.decode("latin-1").rstrip("\r\n")
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                if stage == "helo":
                    self.send(reply_lines(host["reply"]))
                    continue
                if verb == "EHLO":
                    self.send([f"250-{name} hello\r\n".encode(),
                               b"250-8BITMIME\r\n", b"250 HELP\r\n"])
                else:
                    self.send([f"250 {name} hello\r\n".encode()])
            elif verb == "MAIL":
                sender = command.partition(":")[2].strip()
                rcpts = []
                if stage == "mail":
                    self.send(reply_lines(host["reply"]))
                else:
                    self.send([b"250 2.1.0 Ok\r\n"])
            elif verb == "RCPT":
                rcpt = command.partition(":")[2].strip().strip("<>")
                if stage == "rcpt" and self.refuse(sender, rcpt):
                    self.send(reply_lines(host["reply"], rcpt))
                else:
                    rcpts.append(rcpt)
                    self.send([b"250 2.1.5 Ok\r\n"])
            elif verb == "DATA":
                if stage == "data":
                    self.send(reply_lines(host["reply"]))
                    continue
                self.send([b"354 End data with <CR><LF>.<CR><LF>\r\n"])
                while self.rfile.readline() not in (b".\r\n", b".\n", b""):
                    pass
                if stage == "eod" and self.refuse(sender, ",".join(rcpts)):
                    lines = reply_lines(host["reply"])
                    self.send(lines)
                    if lines[-1].startswith(b"421"):
                        return
                else:
                    self.send([b"250 2.0.0 Ok: queued as FAKE\r\n"])
            elif verb == "RSET":
                self.send([b"250 2.0.0 Ok\r\n"])
            elif verb == "QUIT":
                self.send([b"221 2.0.0 Bye\r\n"])
                return
            else:
                self.send([b"502 5.5.2 Error: command not recognized\r\n"])

    def refuse(self, sender, rcpt):
        host = self.server.host
        if host["times"] == 0:
            return True
        with self.server.lock:
            seen = self.server.refused.get((sender, rcpt), 0)
            if seen >= host["times"]:
                return False
            self.server.refused[(sender, rcpt)] = seen + 1
            return True

    def send(self, lines):
        self.wfile.write(b"".join(lines))
        self.wfile.flush()


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def backlog_socket(address):
    # A listener that never accepts, with its queue filled by our own
    # connections: the kernel then drops Exim's SYNs and its connect times out,
    # all on loopback.
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((address, PORT))
    listener.listen(0)
    fillers = []
    for _ in range(2):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex((address, PORT))
        fillers.append(filler)
    return listener, fillers


def main():
    hosts = load_hosts(sys.argv[1])
    keep = []
    for host in hosts:
        if host["stage"] == "none":
            continue
        if host["stage"] == "backlog":
            keep.append(backlog_socket(host["address"]))
            continue
        if host["stage"] not in STAGES + ("-", "silent"):
            sys.exit(f"fakesmtp: unknown stage {host['stage']}")
        server = Server((host["address"], PORT), Session)
        server.host = host
        server.lock = threading.Lock()
        server.refused = {}
        threading.Thread(target=server.serve_forever, daemon=True).start()
        keep.append(server)
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
