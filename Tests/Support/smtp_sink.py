"""A real SMTP server for tests (aiosmtpd): stores each message it receives as a file.

Usage: smtp_sink.py MAILDIR [--tls-cert CERT --tls-key KEY]
Prints "READY <port>" once it listens on 127.0.0.1; with a certificate it offers
STARTTLS and refuses mail until the client has upgraded.
"""

import argparse
import os
import signal
import socket
import ssl
import sys
import uuid

from aiosmtpd.controller import Controller


class Store:
    def __init__(self, folder):
        self.folder = folder

    async def handle_DATA(self, server, session, envelope):
        name = os.path.join(self.folder, f"{uuid.uuid4()}.eml")
        temporary = name + ".part"
        with open(temporary, "wb") as handle:
            handle.write(b"X-Envelope-To: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            handle.write(b"X-Was-TLS: " + (b"yes" if session.ssl else b"no") + b"\r\n")
            handle.write(envelope.original_content or envelope.content)
        os.rename(temporary, name)  # readers never see half a message
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("maildir")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    arguments = parser.parse_args()
    os.makedirs(arguments.maildir, exist_ok=True)
    options = {}
    if arguments.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(arguments.tls_cert, arguments.tls_key)
        options = {"tls_context": context, "require_starttls": True}
    port = free_port()
    controller = Controller(Store(arguments.maildir), hostname="127.0.0.1", port=port, **options)
    controller.start()
    print(f"READY {port}", flush=True)
    # Messages are complete files the moment they appear, so stopping may be abrupt:
    # on SIGTERM/SIGINT, or when the parent closes our stdin.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: os._exit(0))
    while sys.stdin.buffer.read(1):
        pass
    os._exit(0)


if __name__ == "__main__":
    main()
