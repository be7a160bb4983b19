"""The peers of minqing.testing.peers as pytest fixtures: an SMTP server (aiosmtpd),
a robot/webhook HTTP server that checks signatures, and an AWS-compatible server (moto, server mode)."""

from __future__ import annotations


import pytest

from minqing.testing.peers import SMTPPeer, RobotPeer, AWSPeer, WeComOAuthPeer

SMTP_USER, SMTP_PASSWORD = "minqing", "smtp-test-password"


@pytest.fixture()
def smtp_server():
    peer = SMTPPeer()
    yield peer
    peer.stop()


@pytest.fixture()
def mail_ca(tmp_path):
    """A throwaway CA and a certificate it signed for 127.0.0.1; `ca_file` is the CA's PEM on disk."""
    import trustme

    ca = trustme.CA(organization_name="minqing test CA")
    ca.certificate = ca.issue_cert("127.0.0.1", "localhost")
    ca.ca_file = str(tmp_path / "mail-ca.pem")
    ca.cert_pem.write_to_path(ca.ca_file)
    return ca


@pytest.fixture()
def starttls_smtp_server(mail_ca):
    peer = SMTPPeer("starttls", mail_ca.certificate)
    yield peer
    peer.stop()


@pytest.fixture()
def ssl_smtp_server(mail_ca):
    peer = SMTPPeer("ssl", mail_ca.certificate)
    yield peer
    peer.stop()


@pytest.fixture()
def robot_server():
    peer = RobotPeer()
    yield peer
    peer.stop()


@pytest.fixture()
def aws_server(monkeypatch):
    peer = AWSPeer(monkeypatch)
    yield peer
    peer.stop()


@pytest.fixture()
def wecom_oauth():
    peer = WeComOAuthPeer()
    yield peer
    peer.stop()
