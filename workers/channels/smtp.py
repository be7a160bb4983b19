"""`smtp`: e-mail through any SMTP server (STARTTLS, SSL or plain; AUTH when a user is set).

Options: `to` (the staff member's address). Server, sender, credentials and the CA file come from settings.
Each worker thread keeps its connection open and reuses it for the next message, so a message costs one
MAIL/RCPT/DATA exchange instead of a TCP + TLS handshake and AUTH.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
import time
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from io import BytesIO

from workers.channels.base import options_of
from workers.channels.formats import html_message, plain_message
from workers.channels.http import ChannelError

# A reused connection the server has dropped fails with one of these, before any message data went out.
STALE = (smtplib.SMTPServerDisconnected, ConnectionError, ssl.SSLError, TimeoutError)


def compose(sender: str, to: str, name: str, notice) -> EmailMessage:
    """A multipart/alternative message: plain text first, then the same as simple HTML."""
    message = EmailMessage()
    message["Subject"] = notice.subject  # non-ASCII headers are RFC 2047-encoded by the email package
    message["From"] = sender
    message["To"] = formataddr((name, to))
    message["Message-ID"] = make_msgid(idstring=f"minqing-{notice.id}", domain=sender.rpartition("@")[2] or None)
    message.set_content(plain_message(notice))
    message.add_alternative(html_message(notice), subtype="html")
    return message


def tls_context(ca_file: str = "") -> ssl.SSLContext:
    """Verify the server's certificate and name: against `ca_file` (a private CA) or the system's trust store."""
    return ssl.create_default_context(cafile=ca_file or None)


class _Connection:
    def __init__(self, client: smtplib.SMTP):
        self.client = client
        self.last_used = time.monotonic()

    def close(self, *, polite: bool) -> None:
        # QUIT only on a healthy connection: on a broken one it could wait out the whole timeout.
        try:
            if polite:
                self.client.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            self.client.close()


class SMTPChannel:
    name = "smtp"
    in_process = False

    def __init__(self, settings):
        self.settings = settings
        self._context: ssl.SSLContext | None = None
        self._local = threading.local()  # smtplib clients are not thread-safe: one connection per thread

    def send(self, recipient, notice) -> str:
        settings = self.settings
        if not settings.smtp_host or not settings.smtp_from:
            raise ChannelError("MINQING_SMTP_HOST and MINQING_SMTP_FROM must be set for e-mail")
        to = options_of(recipient, self.name)["to"]
        message = compose(settings.smtp_from, to, recipient.name, notice)
        content = _as_bytes(message)
        connection = self._kept()
        if connection is not None:
            try:
                self._envelope(connection.client, to)
            except STALE:
                # Dropped while idle (server timeout, restart): nothing was sent yet, so one fresh try is safe.
                self._discard(connection)
                connection = None
            except BaseException:
                self._discard(connection)  # any other failure: don't reuse a connection in an unknown state
                raise
        if connection is None:
            connection = self._open()
            try:
                self._envelope(connection.client, to)
            except BaseException:
                self._discard(connection)
                raise
        try:
            code, reply = connection.client.data(content)
            if code != 250:  # smtplib's data() returns the final answer rather than raising on it
                raise smtplib.SMTPDataError(code, reply)
        except BaseException:
            # The data may have reached the server: no retry here (the outbox's retry decides), and never
            # reuse a connection left in an unknown state.
            self._discard(connection)
            raise
        connection.last_used = time.monotonic()
        return message["Message-ID"]

    def close(self) -> None:
        """Close this thread's connection (at shutdown; tests)."""
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            self._discard(connection, polite=True)

    def quota_key(self, recipient) -> None:
        return None

    def _envelope(self, client: smtplib.SMTP, to: str) -> None:
        """MAIL FROM and RCPT TO; a 421 (the server closing) counts as a dropped connection."""
        # The text parts are 8-bit UTF-8: say so to servers that understand it (RFC 6152).
        options = ["BODY=8BITMIME"] if client.has_extn("8bitmime") else []
        code, reply = client.mail(self.settings.smtp_from, options)
        if code == 421:
            raise smtplib.SMTPServerDisconnected(reply.decode(errors="replace"))
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, self.settings.smtp_from)
        code, reply = client.rcpt(to)
        if code == 421:
            raise smtplib.SMTPServerDisconnected(reply.decode(errors="replace"))
        if code not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({to: (code, reply)})

    def _kept(self) -> _Connection | None:
        connection = getattr(self._local, "connection", None)
        if connection is not None and time.monotonic() - connection.last_used > self.settings.smtp_idle_s:
            # Idle too long: the server has probably timed it out, so don't try it, nor wait on a QUIT.
            self._discard(connection)
            return None
        return connection

    def _open(self) -> _Connection:
        settings = self.settings
        timeout = settings.channel_timeout_s
        if settings.smtp_security == "ssl":
            client = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=timeout,
                                      context=self._tls())
        else:
            client = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
        try:
            if settings.smtp_security == "starttls":
                client.starttls(context=self._tls())
            if settings.smtp_user:
                client.login(settings.smtp_user, settings.smtp_password)
            client.ehlo_or_helo_if_needed()
        except BaseException:
            client.close()
            raise
        connection = self._local.connection = _Connection(client)
        return connection

    def _discard(self, connection: _Connection, *, polite: bool = False) -> None:
        if getattr(self._local, "connection", None) is connection:
            self._local.connection = None
        connection.close(polite=polite)

    def _tls(self) -> ssl.SSLContext:
        if self._context is None:  # built once: loading the trust store costs milliseconds
            self._context = tls_context(self.settings.smtp_ca_file)
        return self._context


def _as_bytes(message: EmailMessage) -> bytes:
    # What smtplib's send_message transmits: CRLF line ends; DATA adds the dot-stuffing.
    buffer = BytesIO()
    BytesGenerator(buffer, policy=message.policy.clone(linesep="\r\n")).flatten(message)
    return buffer.getvalue()
