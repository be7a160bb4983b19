"""E-mail over TLS against real aiosmtpd servers with a throwaway CA, and connections kept per worker thread."""

import smtplib
import ssl

import pytest

from minqing.settings import load_settings
from minqing.testing.peers import SMTPPeer  # noqa: F401
from tests.peers import mail_ca, smtp_server, ssl_smtp_server, starttls_smtp_server
from tests.test_channels import NOTICE, staff  # noqa: F401 - fixture
from workers.channels.smtp import SMTPChannel


def smtp_channel(base_env, peer, **env) -> SMTPChannel:
    return SMTPChannel(load_settings({**base_env, **peer.env(), **env}))


@pytest.fixture(params=["none", "starttls", "ssl"])
def any_smtp_server(request, mail_ca):
    peer = SMTPPeer(request.param, mail_ca.certificate)
    yield peer
    peer.stop()


def test_starttls_with_a_private_ca_delivers_and_logs_in_only_after_tls(base_env, starttls_smtp_server, mail_ca, staff):
    channel = smtp_channel(base_env, starttls_smtp_server, MINQING_SMTP_CA_FILE=mail_ca.ca_file)
    message_id = channel.send(staff["safety-office"], NOTICE)
    [mail] = starttls_smtp_server.parsed()
    assert mail["Message-ID"].strip() == message_id and mail["Subject"] == NOTICE.subject
    assert starttls_smtp_server.messages[0]["tls"] is True


def test_implicit_tls_with_a_private_ca_delivers(base_env, ssl_smtp_server, mail_ca, staff):
    channel = smtp_channel(base_env, ssl_smtp_server, MINQING_SMTP_CA_FILE=mail_ca.ca_file)
    channel.send(staff["safety-office"], NOTICE)
    [message] = ssl_smtp_server.messages
    assert message["tls"] is True and message["to"] == ["safety@shouyilu.example"]


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_a_certificate_from_a_ca_the_client_does_not_trust_fails_the_send(base_env, mail_ca, staff, security):
    peer = SMTPPeer(security, mail_ca.certificate)
    try:
        # No CA file: the system trust store, which has never heard of the throwaway CA.
        with pytest.raises(ssl.SSLCertVerificationError):
            smtp_channel(base_env, peer).send(staff["safety-office"], NOTICE)
        assert peer.messages == []
    finally:
        peer.stop()


def test_a_certificate_for_another_name_fails_the_send(base_env, mail_ca, staff, tmp_path):
    import trustme

    elsewhere = SMTPPeer("starttls", mail_ca.issue_cert("mail.elsewhere.example"))
    try:
        with pytest.raises(ssl.SSLCertVerificationError, match="IP address mismatch|hostname"):
            smtp_channel(base_env, elsewhere, MINQING_SMTP_CA_FILE=mail_ca.ca_file).send(staff["safety-office"], NOTICE)
        assert elsewhere.messages == []
    finally:
        elsewhere.stop()
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    peer = SMTPPeer("ssl", mail_ca.certificate)
    try:
        with pytest.raises(ssl.SSLCertVerificationError):
            smtp_channel(base_env, peer, MINQING_SMTP_CA_FILE=str(other_ca)).send(staff["safety-office"], NOTICE)
    finally:
        peer.stop()


def test_mails_in_a_row_share_one_connection(base_env, any_smtp_server, mail_ca, staff):
    channel = smtp_channel(base_env, any_smtp_server, MINQING_SMTP_CA_FILE=mail_ca.ca_file)
    for _ in range(5):
        channel.send(staff["safety-office"], NOTICE)
    channel.close()
    assert len(any_smtp_server.messages) == 5 and any_smtp_server.connections == 1


def test_a_server_restart_between_mails_is_survived_within_the_same_attempt(base_env, any_smtp_server, mail_ca, staff):
    channel = smtp_channel(base_env, any_smtp_server, MINQING_SMTP_CA_FILE=mail_ca.ca_file)
    channel.send(staff["safety-office"], NOTICE)
    any_smtp_server.restart()  # the kept connection is now dead
    channel.send(staff["safety-office"], NOTICE)
    channel.send(staff["safety-office"], NOTICE)
    channel.close()
    assert len(any_smtp_server.messages) == 3 and any_smtp_server.connections == 2


def test_a_connection_idle_past_its_lifetime_is_replaced(base_env, smtp_server, staff):
    channel = smtp_channel(base_env, smtp_server, MINQING_SMTP_IDLE_S="0")
    for _ in range(3):
        channel.send(staff["safety-office"], NOTICE)
    assert len(smtp_server.messages) == 3 and smtp_server.connections == 3


def test_a_failure_after_the_data_was_sent_is_not_retried_within_the_attempt(base_env, smtp_server, staff):
    channel = smtp_channel(base_env, smtp_server)
    channel.send(staff["safety-office"], NOTICE)
    smtp_server.fail_data(1)
    with pytest.raises(smtplib.SMTPDataError):
        channel.send(staff["safety-office"], NOTICE)  # on the kept connection
    assert smtp_server.data_attempts == 2  # the message's data went over once
    channel.send(staff["safety-office"], NOTICE)  # the outbox's next attempt
    assert len(smtp_server.messages) == 2 and smtp_server.data_attempts == 3


def test_connections_are_kept_per_thread(base_env, smtp_server, staff):
    from concurrent.futures import ThreadPoolExecutor

    channel = smtp_channel(base_env, smtp_server)
    with ThreadPoolExecutor(3) as pool:
        list(pool.map(lambda _: channel.send(staff["safety-office"], NOTICE), range(30)))
    assert len(smtp_server.messages) == 30 and smtp_server.connections <= 3
