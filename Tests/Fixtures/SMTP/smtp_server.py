"""A real SMTP server for the Notify tests (aiosmtpd): STARTTLS on one port, implicit TLS on another, AUTH
required (over TLS only). Every accepted message is appended to a JSON-lines file. Prints READY when both
ports listen; stops when stdin closes.

usage: smtp_server.py CERT KEY OUT_FILE USER PASSWORD
"""
import json, socket, ssl, sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

cert, key, out_file, user, password = sys.argv[1:6]


class Sink:
    async def handle_DATA(self, server, session, envelope):
        with open(out_file, "a", encoding="utf-8") as f:
            f.write(json.dumps({"from": envelope.mail_from, "to": envelope.rcpt_tos, "tls": server.transport.get_extra_info("ssl_object") is not None,
                                "data": envelope.original_content.decode("utf-8", "replace")}) + "\n")
        return "250 Message accepted for delivery"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
    return AuthResult(success=ok, handled=False)


def free_port():
    # aiosmtpd's Controller cannot listen on port 0; take a free port from the kernel.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)
common = dict(authenticator=authenticator, auth_required=True)
starttls = Controller(Sink(), hostname="127.0.0.1", port=free_port(), tls_context=context, require_starttls=True, auth_require_tls=True, **common)
# Implicit TLS: the whole connection is TLS already (aiosmtpd would not offer AUTH with auth_require_tls here).
implicit = Controller(Sink(), hostname="127.0.0.1", port=free_port(), ssl_context=context, auth_require_tls=False, **common)
starttls.start()
implicit.start()
print(f"READY {starttls.port} {implicit.port}", flush=True)
sys.stdin.read()
starttls.stop()
implicit.stop()
