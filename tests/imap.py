"""A real IMAP server for tests: Debian's dovecot (dovecot-imapd) with a configuration of its own
in a temporary folder (no system configuration), on 127.0.0.1 and a free port, one user from a
passwd-file, maildir storage in the folder; plain IMAP, or IMAPS with a self-signed certificate
made by the test (`tls=True`). Runs as the current user (as root, mail is stored as nobody)."""

from __future__ import annotations

import contextlib
import datetime
import imaplib
import ipaddress
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from tests.smtp import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER = "portal-inbox"
PASSWORD = "p@ss/w%rd#1"  # needs percent-encoding in the URL (no colon: the passwd-file)


def dovecot_available() -> bool:
    return os.path.exists(DOVECOT) and os.path.exists("/usr/lib/dovecot/imap")


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (its own CA), and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class Dovecot:
    def __init__(self, *, tls: str = "") -> None:
        """`tls`: "" plain IMAP, "imaps" TLS from the start, "starttls" plain port that
        refuses to sign in before STARTTLS."""
        self.tls = tls
        self.port = free_port()
        # Short: dovecot's unix sockets live under it (a socket path has at most 108 bytes).
        self.folder = Path(tempfile.mkdtemp(prefix="dv-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.cafile: Path | None = None

    @property
    def url(self) -> str:
        from urllib.parse import quote

        scheme = "imaps" if self.tls == "imaps" else "imap"
        options = []
        if self.tls == "starttls":
            options.append("starttls=yes")
        if self.cafile:
            options.append(f"cafile={quote(str(self.cafile))}")
        query = f"?{'&'.join(options)}" if options else ""
        user, password = quote(USER, safe=""), quote(PASSWORD, safe="")
        return f"{scheme}://{user}:{password}@127.0.0.1:{self.port}/INBOX{query}"

    def _config(self) -> str:
        folder = self.folder
        if os.geteuid() == 0:
            uid = gid = 65534  # dovecot refuses to store mail as root
            login_user, internal_user = "dovenull", "dovecot"
        else:
            uid, gid = os.getuid(), os.getgid()
            login_user = internal_user = pwd.getpwuid(uid).pw_name
        ssl = "no"
        listener = f"inet_listener imap {{\n    address = 127.0.0.1\n    port = {self.port}\n  }}"
        if self.tls:
            cert, key = _certificate(folder)
            os.chmod(key, 0o644)
            self.cafile = cert
            ssl = f"required\nssl_cert = <{cert}\nssl_key = <{key}"
        if self.tls == "imaps":
            listener = (
                "inet_listener imap {\n    port = 0\n  }\n"
                f"  inet_listener imaps {{\n    address = 127.0.0.1\n    port = {self.port}\n"
                "    ssl = yes\n  }"
            )
        return f"""
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
instance_name = dovecot-test-{self.port}
protocols = imap
listen = 127.0.0.1
ssl = {ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{folder}/mail/%n
first_valid_uid = 1
mail_uid = {uid}
mail_gid = {gid}
default_login_user = {login_user}
default_internal_user = {internal_user}
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  chroot =
  {listener}
}}
service anvil {{
  chroot =
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={folder}/mail/%n
}}
"""

    def start(self) -> Dovecot:
        (self.folder / "mail").mkdir()
        os.chmod(self.folder, 0o755)
        os.chmod(self.folder / "mail", 0o777)
        (self.folder / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        config = self.folder / "dovecot.conf"
        config.write_text(self._config())
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                self.client().logout()
                return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = self.log()
                    self.stop()
                    raise RuntimeError(f"dovecot did not start:\n{log}") from None
                time.sleep(0.1)
            except BaseException:  # up, but refusing us: never leave it running
                self.stop()
                raise

    def log(self) -> str:
        with contextlib.suppress(OSError):
            return (self.folder / "dovecot.log").read_text()
        return ""

    def stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
            self.process = None
        shutil.rmtree(self.folder, ignore_errors=True)

    # --- the test's own view of the mailbox -----------------------------------------------------

    def client(self) -> imaplib.IMAP4:
        import ssl

        context = ssl.create_default_context(cafile=str(self.cafile)) if self.cafile else None
        client: imaplib.IMAP4
        if self.tls == "imaps":
            client = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=context, timeout=10)
        else:
            client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
            if self.tls == "starttls":
                client.starttls(ssl_context=context)
        client.login(USER, PASSWORD)
        return client

    def append(
        self, raw: bytes, folder: str = "INBOX", when: datetime.datetime | None = None
    ) -> None:
        client = self.client()
        try:
            date = imaplib.Time2Internaldate(when) if when else None
            typ, data = client.append(folder, None, date, raw)
            assert typ == "OK", data
        finally:
            client.logout()

    def messages(self, folder: str) -> list[tuple[set[str], bytes]]:
        """(flags, raw) of every message in `folder` (none when it does not exist)."""
        client = self.client()
        try:
            typ, _data = client.select(f'"{folder}"', readonly=True)
            if typ != "OK":
                return []
            typ, data = client.uid("SEARCH", "ALL")
            found = []
            for uid in (data[0] or b"").split():
                typ, fetched = client.uid("FETCH", uid, "(FLAGS BODY.PEEK[])")
                for item in fetched:
                    if isinstance(item, tuple):
                        flags = imaplib.ParseFlags(item[0])
                        found.append(({flag.decode() for flag in flags}, item[1]))
            return found
        finally:
            client.logout()

    def count(self, folder: str) -> int:
        return len(self.messages(folder))
