"""A real IMAP server for the e-mail intake tests: Debian's dovecot, installed if missing, with its own config in a
temporary directory (loopback, a free port, passwd-file users, Maildir, no SSL), started as a subprocess and
stopped after the tests of the module."""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

DOVECOT = "/usr/sbin/dovecot"
USER = "tousu-box"
PASSWORD = "intake-secret-2026"


@dataclass
class MailServer:
    host: str
    port: int
    user: str
    password: str

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4(self.host, self.port, timeout=10)
        client.login(self.user, self.password)
        return client

    def deliver(self, raw: bytes, folder: str = "INBOX") -> None:
        """Put a message in the mailbox by IMAP APPEND, as a mail server's delivery would."""
        client = self.client()
        try:
            typ, data = client.append(folder, None, None, raw)
            assert typ == "OK", data
        finally:
            client.logout()

    def flags(self, folder: str = "INBOX") -> list[bytes]:
        client = self.client()
        try:
            client.select(folder, readonly=True)
            typ, data = client.fetch("1:*", "(FLAGS)")
            return [d for d in data if d]
        finally:
            client.logout()

    def reset(self, folder: str = "INBOX") -> None:
        client = self.client()
        try:
            client.select(folder)
            typ, data = client.search(None, "ALL")
            if data[0]:
                client.store(b",".join(data[0].split()), "+FLAGS", "(\\Deleted)")
                client.expunge()
        finally:
            client.logout()


def _ensure_installed() -> None:
    if os.path.exists(DOVECOT) and os.path.exists("/usr/lib/dovecot/imap"):
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "dovecot-imapd"], check=True, env=env, capture_output=True,
                   timeout=600)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accounts() -> tuple[str, str, int, int]:
    """The system user and group dovecot's processes and the mail files run as. Dovecot refuses to run its login
    processes as root, so under root they run as nobody; otherwise as the user running the tests."""
    if os.geteuid() == 0:
        return "nobody", grp.getgrgid(pwd.getpwnam("nobody").pw_gid).gr_name, *_ids("nobody")
    me = pwd.getpwuid(os.geteuid())
    return me.pw_name, grp.getgrgid(me.pw_gid).gr_name, me.pw_uid, me.pw_gid


def _ids(name: str) -> tuple[int, int]:
    entry = pwd.getpwnam(name)
    return entry.pw_uid, entry.pw_gid


CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:{root}/mail/%u
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
"""


@pytest.fixture(scope="module")
def mail_server():
    _ensure_installed()
    root = Path(tempfile.mkdtemp(prefix="hcp-dovecot-"))
    user, group, uid, gid = _accounts()
    root.chmod(0o755)
    (root / "mail").mkdir()
    os.chown(root / "mail", uid, gid)
    (root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    (root / "users").chmod(0o644)
    port = _free_port()
    (root / "dovecot.conf").write_text(CONFIG.format(root=root, user=user, group=group, uid=uid, gid=gid, port=port))
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    server = MailServer("127.0.0.1", port, USER, PASSWORD)
    deadline = time.monotonic() + 20
    while True:
        try:
            server.client().logout()
            break
        except (OSError, imaplib.IMAP4.error):
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                pytest.fail(f"dovecot did not start: {process.stderr.read().decode()} {log[-2000:]}")
            time.sleep(0.2)
    try:
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)
