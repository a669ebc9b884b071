"""A real SMTP server for tests (aiosmtpd): every message is accepted and written to a folder.

Started by ./run:  sink.py --port N --dir DIR [--host 127.0.0.1]

- Plain SMTP (no TLS, no STARTTLS). AUTH PLAIN and LOGIN are offered and any credentials are accepted;
  a client that does not authenticate may send too.
- Each message is written as DIR/<UTC timestamp>-<n>.eml: first to a hidden temporary name in DIR,
  then renamed, so a reader never sees half a message. The message is the DATA exactly as received,
  after two headers put in front of it with the envelope:
      X-Sink-Mail-From: <the MAIL FROM address>
      X-Sink-Rcpt-To: <the RCPT TO addresses, comma-separated>
- Prints "smtp-sink listening on HOST:PORT" (the real port when --port is 0) once it accepts mail,
  then one line per message written. Ends on SIGTERM or SIGINT with status 0.
"""

import argparse
import asyncio
import itertools
import logging
import os
import signal
import sys
import time

from aiosmtpd.smtp import SMTP, AuthResult


def clean(address):
    """An envelope address fit for one header line."""
    return "".join(ch for ch in (address or "") if ch not in "\r\n")


class Sink:
    def __init__(self, folder):
        self.folder = folder
        self.counter = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        now = time.time()
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + "%06dZ" % int((now % 1) * 1_000_000)
        name = f"{stamp}-{n:06d}.eml"
        head = (
            f"X-Sink-Mail-From: {clean(envelope.mail_from)}\r\n"
            f"X-Sink-Rcpt-To: {', '.join(clean(r) for r in envelope.rcpt_tos)}\r\n"
        ).encode("utf-8")
        body = envelope.original_content
        if body is None:
            body = envelope.content if isinstance(envelope.content, bytes) else (envelope.content or "").encode("utf-8")
        temp = os.path.join(self.folder, f".{name}.{os.getpid()}.tmp")
        with open(temp, "wb") as f:
            f.write(head + body)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, os.path.join(self.folder, name))
        print(f"smtp-sink: {name} from <{clean(envelope.mail_from)}> to {', '.join(clean(r) for r in envelope.rcpt_tos)}", flush=True)
        return "250 OK message accepted"


def accept_any(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=True)


async def main():
    p = argparse.ArgumentParser(description="SMTP server for tests: writes every message to a folder")
    p.add_argument("--port", type=int, required=True, help="TCP port (0: any free port)")
    p.add_argument("--dir", required=True, help="folder for the .eml files (created if missing)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    args = p.parse_args()
    # aiosmtpd's own log (logger "mail.log") warns about its deprecated login_data on every AUTH.
    logging.getLogger("mail.log").setLevel(logging.ERROR)

    os.makedirs(args.dir, exist_ok=True)
    sink = Sink(args.dir)
    loop = asyncio.get_running_loop()

    def protocol():
        return SMTP(
            sink,
            hostname="smtp-sink",
            enable_SMTPUTF8=True,
            auth_required=False,
            auth_require_tls=False,
            authenticator=accept_any,
            loop=loop,
        )

    server = await loop.create_server(protocol, host=args.host, port=args.port)
    port = server.sockets[0].getsockname()[1]
    print(f"smtp-sink listening on {args.host}:{port}", flush=True)

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()
    try:
        await asyncio.wait_for(server.wait_closed(), 2)
    except asyncio.TimeoutError:
        pass  # an idle client connection still open: leave it


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except OSError as e:
        print(f"smtp-sink: {e}", file=sys.stderr)
        sys.exit(1)
