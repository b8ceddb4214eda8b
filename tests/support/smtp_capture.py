#!/usr/bin/python3
"""A throwaway SMTP server for dirproxy's integration tests.

Built on aiosmtpd (Debian's python3-aiosmtpd). It listens on 127.0.0.1 and
writes every message it accepts into DIR as NNNN.json (the envelope, the
session's TLS and AUTH state, and the message as Python's email package reads
it: headers, decoded subject and decoded body) and then NNNN.eml (the raw
message), each written to a temporary name and renamed, so a reader that
sees NNNN.eml finds both files complete. Numbering continues after the
highest number already in DIR, so a restart on the same DIR adds to it.

Decoding is left to the standard library on purpose: the daemon's encoder
(quoted-printable, RFC 2047) is checked by an implementation that is not its
own.

Control files, checked on each RCPT TO, let a test change the answers while
the server runs: CONTROL_DIR/tempfail makes it answer 451 (a temporary
failure, the client should retry), CONTROL_DIR/reject 550 (permanent).

Once listening it prints "smtp_capture ready port=PORT" on stdout. SIGTERM
and SIGINT stop it.
"""

import argparse
import email
import email.policy
import json
import os
import signal
import socket
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Capture:
    def __init__(self, directory, control_dir):
        self.directory = directory
        self.control_dir = control_dir
        self.lock = threading.Lock()
        numbers = [int(name[:4]) for name in os.listdir(directory) if name.endswith(".eml") and name[:4].isdigit()]
        self.next_number = max(numbers, default=0) + 1

    def control(self, name):
        return os.path.exists(os.path.join(self.control_dir, name))

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.control("tempfail"):
            return "451 4.3.0 Temporary failure requested by the test"
        if self.control("reject"):
            return "550 5.1.1 Recipient rejected by the test"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        body = ""
        if not message.is_multipart():
            try:
                body = message.get_content()
            except (LookupError, ValueError) as error:
                body = "<undecodable: %s>" % error
        auth_data = getattr(session, "auth_data", None)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            # session.ssl is only set by STARTTLS; smtps is TLS from the start.
            "tls": session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
            "auth_user": auth_data.login.decode() if isinstance(auth_data, LoginPassword) else None,
            "headers": [[name, value.replace("\r\n", "").replace("\n", "")]
                        for name, value in message.raw_items()],
            "subject": str(message.get("Subject", "")),
            "body": body,
            "defects": [type(defect).__name__ for defect in message.defects],
        }
        with self.lock:
            number = self.next_number
            self.next_number += 1
        base = os.path.join(self.directory, "%04d" % number)
        write_atomically(base + ".json", json.dumps(record, ensure_ascii=False, indent=1).encode())
        write_atomically(base + ".eml", raw)
        return "250 Message accepted for delivery"


def write_atomically(path, data):
    temporary = path + ".tmp"
    with open(temporary, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.rename(temporary, path)


def free_port():
    # The Controller checks it is up by connecting to its port, so it needs
    # a real number, not 0.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, help="where captured messages are written")
    parser.add_argument("--control-dir", help="where the tempfail/reject files are looked for (default: --dir)")
    parser.add_argument("--port", type=int, default=0, help="0 = any free port")
    parser.add_argument("--cert", help="server certificate (PEM): offer STARTTLS, or use with --implicit-tls")
    parser.add_argument("--key", help="the certificate's private key (PEM)")
    parser.add_argument("--require-starttls", action="store_true", help="refuse mail before STARTTLS")
    parser.add_argument("--implicit-tls", action="store_true", help="TLS from the first byte (smtps)")
    parser.add_argument("--auth", metavar="USER:PASSWORD", help="require AUTH PLAIN/LOGIN with these credentials")
    args = parser.parse_args()

    context = None
    if args.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
    if (args.require_starttls or args.implicit_tls) and context is None:
        parser.error("--require-starttls and --implicit-tls need --cert and --key")

    smtp_options = {"auth_require_tls": False}
    if args.auth:
        user, _, password = args.auth.partition(":")
        expected = LoginPassword(user.encode(), password.encode())

        def authenticator(server, session, envelope, mechanism, auth_data):
            return AuthResult(success=auth_data == expected, handled=False, auth_data=auth_data)

        smtp_options.update(auth_required=True, authenticator=authenticator)
    if args.implicit_tls:
        smtp_options["ssl_context"] = context
    elif context is not None:
        smtp_options.update(tls_context=context, require_starttls=args.require_starttls)

    port = args.port or free_port()
    handler = Capture(args.dir, args.control_dir or args.dir)
    controller = Controller(handler, hostname="127.0.0.1", port=port, **smtp_options)
    controller.start()
    print("smtp_capture ready port=%d" % port, flush=True)

    stop = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stop.set())
    stop.wait()
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
