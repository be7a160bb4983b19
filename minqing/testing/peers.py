"""Real protocol peers for the notification channels, started by the tests: an SMTP server (aiosmtpd),
a robot/webhook HTTP server that checks signatures, and an AWS-compatible server (moto, server mode); and
the console's other peers: WeCom's and DingTalk's sign-in and a map tile server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

from minqing.testing.live import free_port

SMTP_USER, SMTP_PASSWORD = "minqing", "smtp-test-password"
DINGTALK_SECRET = "SECdingtalk-test-secret"
WEBHOOK_SECRET = "webhook-test-secret"


class SMTPPeer:
    """An aiosmtpd server that requires AUTH and records each message with its arrival time.

    `security`: "none" (plain, AUTH allowed without TLS), "starttls" (STARTTLS required, AUTH only after it)
    or "ssl" (implicit TLS), with `certificate` (a trustme LeafCert) for the TLS ones. `connections` counts
    the connections that carried mail; `restart()` stops the server and starts a new one on the same port;
    `fail_data(n)` answers 451 to the next n DATA commands (after the data was sent).
    """

    def __init__(self, security: str = "none", certificate=None):
        self.security, self.certificate = security, certificate
        self.messages: list[dict] = []
        self.data_attempts = 0
        self.failing_data = 0
        self._carriers: list = []  # the protocol object of each connection that carried mail
        self.port = free_port()
        self.controller = self._start()

    def _start(self):
        import ssl

        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        peer = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                peer.data_attempts += 1
                if not any(server is known for known in peer._carriers):
                    peer._carriers.append(server)
                if peer.failing_data > 0:
                    peer.failing_data -= 1
                    return "451 4.3.0 try again later"
                tls = server.transport.get_extra_info("ssl_object") is not None
                peer.messages.append({"from": envelope.mail_from, "to": envelope.rcpt_tos, "tls": tls,
                                      "data": envelope.original_content, "at": time.time()})
                return "250 OK"

        def authenticate(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login == SMTP_USER.encode() and auth_data.password == SMTP_PASSWORD.encode()
            return AuthResult(success=ok)

        options = dict(authenticator=authenticate, auth_required=True, auth_require_tls=False)
        if self.security != "none":
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.certificate.configure_cert(context)
            if self.security == "starttls":
                options.update(tls_context=context, require_starttls=True, auth_require_tls=True)
            else:
                options.update(ssl_context=context)
        controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **options)
        controller.start()
        return controller

    @property
    def connections(self) -> int:
        return len(self._carriers)

    def env(self) -> dict:
        return {"MINQING_SMTP_HOST": "127.0.0.1", "MINQING_SMTP_PORT": str(self.port),
                "MINQING_SMTP_SECURITY": self.security, "MINQING_SMTP_USER": SMTP_USER,
                "MINQING_SMTP_PASSWORD": SMTP_PASSWORD, "MINQING_SMTP_FROM": "minqing@shouyilu.example"}

    def fail_data(self, times: int) -> None:
        self.failing_data = times

    def restart(self) -> None:
        self.controller.stop()
        self.controller = self._start()

    def parsed(self) -> list:
        from email import message_from_bytes, policy

        return [message_from_bytes(m["data"], policy=policy.default) for m in self.messages]

    def stop(self):
        self.controller.stop()


class _QuietHandler(BaseHTTPRequestHandler):
    """A peer's request handler: no access log on the test's output, and JSON answers."""

    def log_message(self, *args):
        pass

    def _json(self, body, status: int = 200):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Served:
    """A peer answering HTTP on a free local port, in a thread of its own."""

    def _serve(self, handler) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class RobotPeer(_Served):
    """WeCom and DingTalk robots and a generic webhook receiver on one local HTTP server.

    Paths: /wecom/<robot>, /dingtalk/<robot> (checks the timestamp + HMAC-SHA256 signature) and
    /hook/<name> (checks X-Minqing-Signature). `fail(path, times)` answers HTTP 500 that many times;
    `flaky(path, rate)` answers 500 to that share of requests, at random, and keeps each one in `failed`;
    `hang(path, seconds)` answers only after that long (each request kept in `failed`).
    """

    def __init__(self):
        self.received: list[dict] = []
        self.refused: list[dict] = []
        self.failed: list[dict] = []
        self.failures: dict[str, int] = {}
        self.failure_rates: dict[str, float] = {}
        self.down: set[str] = set()
        self.hanging: dict[str, float] = {}
        self.random = random.Random(6)
        self.lock = threading.Lock()
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                url = urllib.parse.urlparse(self.path)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                path = url.path
                if path in peer.hanging:
                    peer.failed.append({"path": path, "json": json.loads(body), "at": time.time()})
                    time.sleep(peer.hanging[path])  # the client has given up long before this answer
                    return self._answer(200, {"errcode": 0, "errmsg": "ok"})
                if path in peer.failure_rates:
                    with peer.lock:
                        unlucky = peer.random.random() < peer.failure_rates[path]
                    if unlucky:
                        peer.failed.append({"path": path, "json": json.loads(body), "at": time.time()})
                        return self._answer(500, {"errcode": -1, "errmsg": "system busy"})
                if path in peer.down or peer.failures.get(path, 0) > 0:
                    if path not in peer.down:
                        peer.failures[path] -= 1
                    return self._answer(500, {"errcode": -1, "errmsg": "system busy"})
                problem = peer._check(path, dict(urllib.parse.parse_qsl(url.query)), self.headers, body)
                record = {"path": path, "json": json.loads(body), "headers": dict(self.headers), "at": time.time()}
                if problem:
                    peer.refused.append(dict(record, problem=problem))
                    return self._answer(200, {"errcode": 310000, "errmsg": problem})
                peer.received.append(record)
                self._answer(200, {"errcode": 0, "errmsg": "ok"})

            def _answer(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._serve(Handler)

    def _check(self, path, query, headers, body) -> str | None:
        if path.startswith("/dingtalk/"):
            timestamp, sign = query.get("timestamp", ""), query.get("sign", "")
            expected = base64.b64encode(hmac.new(DINGTALK_SECRET.encode(), f"{timestamp}\n{DINGTALK_SECRET}".encode(),
                                                 hashlib.sha256).digest()).decode()
            if not hmac.compare_digest(sign, expected) or abs(time.time() * 1000 - int(timestamp or 0)) > 3600_000:
                return "sign not match"
        if path.startswith("/hook/"):
            timestamp = headers.get("X-Minqing-Timestamp", "")
            expected = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), timestamp.encode() + b"." + body,
                                            hashlib.sha256).hexdigest()
            if not hmac.compare_digest(headers.get("X-Minqing-Signature", ""), expected):
                return "bad signature"
        return None

    def fail(self, path: str, times: int) -> None:
        self.failures[path] = times

    def hang(self, path: str, seconds: float) -> None:
        """Answer requests to `path` only after `seconds`: a robot that has stopped responding."""
        self.hanging[path] = seconds

    def flaky(self, path: str, rate: float) -> None:
        self.failure_rates[path] = rate

    def at(self, path: str) -> list[dict]:
        return [r for r in self.received if r["path"] == path]


class AWSPeer:
    """moto in server mode: SES and SNS over HTTP on a free port."""

    def __init__(self, monkeypatch):
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                            ("AWS_DEFAULT_REGION", "us-east-1")):
            monkeypatch.setenv(name, value)
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port)
        self.server.start()
        import boto3
        import requests

        # moto keeps its stores per process, not per server: start from empty, not from the last test's mail.
        requests.post(f"{self.url}/moto-api/reset", timeout=15).raise_for_status()

        boto3.client("ses", endpoint_url=self.url, region_name="us-east-1").verify_email_identity(
            EmailAddress="minqing@shouyilu.example")

    def env(self) -> dict:
        return {"MINQING_AWS_ENDPOINT_URL": self.url, "MINQING_AWS_REGION": "us-east-1",
                "MINQING_SES_FROM": "minqing@shouyilu.example"}

    def data(self) -> dict:
        """What moto holds, read over HTTP (`/moto-api/data.json`), as another process would see it."""
        import requests

        return requests.get(f"{self.url}/moto-api/data.json", timeout=15).json()

    def emails_over_http(self) -> list[dict]:
        return self.data().get("ses", {}).get("Message", [])

    def sms_over_http(self) -> list[dict]:
        return self.data().get("sns", {}).get("SMS", [])

    def sent_emails(self) -> list:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends

        return list(ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages)

    def sent_sms(self) -> list:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.sns.models import sns_backends

        return list(sns_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sms_messages.values())

    def stop(self):
        self.server.stop()


def directory_toml(robots: RobotPeer | None = None) -> str:
    """A small street: 千家街 with a grid worker (WeCom, then e-mail), a secretary (DingTalk), a street
    leader (webhook) and the safety office (e-mail); escalation chain grid → secretary → leader."""
    return """
[street]
code = "shouyilu"
name = { zh = "首义路街道", en = "Shouyilu" }
fallback = ["street-duty"]

[[communities]]
code = "qianjiajie"
name = { zh = "千家街社区", en = "Qianjiajie" }
fallback = "qjj-secretary"
chain = ["qjj-grid", "qjj-secretary", "street-leader"]

[[staff]]
id = "qjj-grid"
name = "王网格员"
role = "community"
communities = ["qianjiajie"]
channels = [{ type = "wecom", webhook_env = "TEST_WECOM_GRID" }, { type = "smtp", to = "grid@qjj.example" }]

[[staff]]
id = "qjj-secretary"
name = "杨书记"
role = "community"
communities = ["qianjiajie"]
channels = [{ type = "dingtalk", webhook_env = "TEST_DINGTALK", secret_env = "TEST_DINGTALK_SECRET" }]

[[staff]]
id = "street-leader"
name = "街道分管领导"
role = "street"
channels = [{ type = "webhook", url_env = "TEST_HOOK_URL", secret_env = "TEST_HOOK_SECRET" }]

[[staff]]
id = "safety-office"
name = "街道安全办"
role = "street"
channels = [{ type = "smtp", to = "safety@shouyilu.example" }]

[[staff]]
id = "street-duty"
name = "街道值班室"
role = "street"
channels = [{ type = "log" }]

[[rules]]
kind = "hazard"
community = "qianjiajie"
assignees = ["qjj-grid"]

[[rules]]
kind = "hazard"
category = "structure"
assignees = ["safety-office"]
also = true
"""


def aws_directory_toml() -> str:
    """千家街 again, with staff reached through AWS: the grid worker by SES e-mail (then SNS SMS), the safety
    office by SNS SMS; the secretary is the community's fallback."""
    return """
[street]
code = "shouyilu"
name = { zh = "首义路街道", en = "Shouyilu" }
fallback = ["qjj-secretary"]

[[communities]]
code = "qianjiajie"
name = { zh = "千家街社区", en = "Qianjiajie" }
fallback = "qjj-secretary"
chain = ["qjj-grid", "qjj-secretary"]

[[staff]]
id = "qjj-grid"
name = "王网格员"
role = "community"
communities = ["qianjiajie"]
channels = [{ type = "ses", to = "grid@qjj.example" }, { type = "sns", phone = "13800001111" }]

[[staff]]
id = "qjj-secretary"
name = "杨书记"
role = "community"
communities = ["qianjiajie"]
channels = [{ type = "log" }]

[[staff]]
id = "safety-office"
name = "街道安全办"
role = "street"
channels = [{ type = "sns", phone = "+8613900002222" }]

[[rules]]
kind = "hazard"
community = "qianjiajie"
assignees = ["qjj-grid"]

[[rules]]
kind = "hazard"
category = "structure"
assignees = ["safety-office"]
also = true
"""


def peer_env(robots: RobotPeer, smtp: SMTPPeer) -> dict:
    return {
        "TEST_WECOM_GRID": f"{robots.url}/wecom/grid?key=wecom-robot-key",
        "TEST_DINGTALK": f"{robots.url}/dingtalk/qjj?access_token=dingtalk-token",
        "TEST_DINGTALK_SECRET": DINGTALK_SECRET,
        "TEST_HOOK_URL": f"{robots.url}/hook/leader",
        "TEST_HOOK_SECRET": WEBHOOK_SECRET,
        **smtp.env(),
    }


class WeComOAuthPeer(_Served):
    """企业微信网页授权 as the console meets it: the authorise page (which sends the browser straight back with
    a code for `user`, as WeCom does for a member already inside the app), `gettoken` and
    `auth/getuserinfo`. Codes work once; a wrong corp secret is refused like WeCom does (errcode 40001)."""

    CORP_ID, SECRET = "ww-test-corp", "wecom-test-secret"

    def __init__(self):
        self.user = "WangWangGe"
        self.codes: dict[str, str] = {}
        self.calls: list[str] = []
        peer = self

        class Handler(_QuietHandler):

            def do_GET(self):
                parts = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parts.query))
                peer.calls.append(parts.path)
                if parts.path == "/connect/oauth2/authorize":
                    code = f"code-{random.randrange(10**9)}"
                    peer.codes[code] = peer.user
                    back = query["redirect_uri"] + ("&" if "?" in query["redirect_uri"] else "?") + \
                        urllib.parse.urlencode({"code": code, "state": query.get("state", "")})
                    self.send_response(302)
                    self.send_header("Location", back)
                    self.end_headers()
                elif parts.path == "/cgi-bin/gettoken":
                    if query.get("corpid") != peer.CORP_ID or query.get("corpsecret") != peer.SECRET:
                        return self._json({"errcode": 40001, "errmsg": "invalid credential"})
                    self._json({"errcode": 0, "errmsg": "ok", "access_token": "peer-token", "expires_in": 7200})
                elif parts.path == "/cgi-bin/auth/getuserinfo":
                    if query.get("access_token") != "peer-token":
                        return self._json({"errcode": 40014, "errmsg": "invalid access_token"})
                    user = peer.codes.pop(query.get("code", ""), None)
                    if user is None:
                        return self._json({"errcode": 40029, "errmsg": "invalid code"})
                    self._json({"errcode": 0, "errmsg": "ok", "userid": user, "user_ticket": "t"})
                else:
                    self.send_response(404)
                    self.end_headers()

        self._serve(Handler)

    @property
    def env(self) -> dict:
        return {"MINQING_WECOM_CORP_ID": self.CORP_ID, "MINQING_WECOM_SECRET": self.SECRET,
                "MINQING_WECOM_API_URL": self.url, "MINQING_WECOM_OPEN_URL": self.url}


class DingTalkOAuthPeer(_Served):
    """钉钉网页登录 as the console meets it: the login page (which sends the browser straight back with an
    `authCode` for `user` in `corp`, as DingTalk does for a person already signed in to the app), the new
    API's `oauth2/userAccessToken` and `contact/users/me`, and the old API's `gettoken` and
    `topapi/user/getbyunionid`. Codes work once; a wrong app secret is refused as DingTalk refuses it."""

    APP_KEY, SECRET, CORP_ID = "ding-test-app", "dingtalk-test-secret", "ding-test-corp"
    # unionId → userid in CORP_ID, as the organisation's address book has them.
    MEMBERS: ClassVar[dict[str, str]] = {"union-ZhangSan": "ZhangSanJL"}

    def __init__(self):
        self.user, self.corp = "union-ZhangSan", self.CORP_ID
        self.codes: dict[str, tuple[str, str]] = {}
        self.user_tokens: dict[str, str] = {}
        self.calls: list[str] = []
        peer = self

        class Handler(_QuietHandler):

            def _body(self) -> dict:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    return json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    return {}

            def do_GET(self):
                parts = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parts.query))
                peer.calls.append(parts.path)
                if parts.path == "/oauth2/auth":
                    if query.get("client_id") != peer.APP_KEY or "openid" not in query.get("scope", ""):
                        return self._json({"code": "invalidClientId", "message": "bad client"}, 400)
                    code = f"auth-{random.randrange(10**9)}"
                    peer.codes[code] = (peer.user, peer.corp)
                    back = query["redirect_uri"] + ("&" if "?" in query["redirect_uri"] else "?") + \
                        urllib.parse.urlencode({"authCode": code, "state": query.get("state", "")})
                    self.send_response(302)
                    self.send_header("Location", back)
                    self.end_headers()
                elif parts.path == "/v1.0/contact/users/me":
                    union = peer.user_tokens.get(self.headers.get("x-acs-dingtalk-access-token", ""))
                    if union is None:
                        return self._json({"code": "InvalidAuthentication", "message": "bad token"}, 401)
                    self._json({"nick": "张三", "unionId": union, "openId": "open-" + union})
                elif parts.path == "/gettoken":
                    if query.get("appkey") != peer.APP_KEY or query.get("appsecret") != peer.SECRET:
                        return self._json({"errcode": 40089, "errmsg": "不合法的corpid或corpsecret"})
                    self._json({"errcode": 0, "errmsg": "ok", "access_token": "peer-app-token", "expires_in": 7200})
                else:
                    self._json({"code": "notFound"}, 404)

            def do_POST(self):
                parts = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parts.query))
                body = self._body()
                peer.calls.append(parts.path)
                if parts.path == "/v1.0/oauth2/userAccessToken":
                    if body.get("clientId") != peer.APP_KEY or body.get("clientSecret") != peer.SECRET:
                        return self._json({"code": "invalidClientSecret", "message": "bad secret"}, 400)
                    granted = peer.codes.pop(body.get("code", ""), None)
                    if granted is None or body.get("grantType") != "authorization_code":
                        return self._json({"code": "invalidAuthCode", "message": "bad code"}, 400)
                    token = f"user-token-{random.randrange(10**9)}"
                    peer.user_tokens[token] = granted[0]
                    self._json({"accessToken": token, "refreshToken": "r", "expireIn": 7200, "corpId": granted[1]})
                elif parts.path == "/topapi/user/getbyunionid":
                    if query.get("access_token") != "peer-app-token":
                        return self._json({"errcode": 40014, "errmsg": "不合法的access_token"})
                    userid = peer.MEMBERS.get(body.get("unionid", ""))
                    if userid is None:
                        return self._json({"errcode": 60121, "errmsg": "找不到该用户"})
                    self._json({"errcode": 0, "errmsg": "ok", "result": {"contact_type": 0, "userid": userid}})
                else:
                    self._json({"code": "notFound"}, 404)

        self._serve(Handler)

    @property
    def env(self) -> dict:
        return {"MINQING_DINGTALK_APP_KEY": self.APP_KEY, "MINQING_DINGTALK_APP_SECRET": self.SECRET,
                "MINQING_DINGTALK_CORP_ID": self.CORP_ID, "MINQING_DINGTALK_LOGIN_URL": self.url,
                "MINQING_DINGTALK_API_URL": self.url, "MINQING_DINGTALK_OAPI_URL": self.url}


class TilePeer(_Served):
    """A map tile server: `GET /tiles/{z}/{x}/{y}.png` answers a plain grey 256 px PNG with grid lines
    (its z/x/y written in a corner) and records each tile asked for in `requests` as (z, x, y); anything
    else is a 404, recorded in `others`. `env` points the console's maps at it (GCJ-02 tiles, as AutoNavi's)."""

    def __init__(self, crs: str = "gcj02"):
        self.crs = crs
        self.requests: list[tuple[int, int, int]] = []
        self.others: list[str] = []
        peer = self

        class Handler(_QuietHandler):
            def do_GET(self):
                parts = self.path.split("?")[0].strip("/").split("/")
                if len(parts) == 4 and parts[0] == "tiles" and parts[3].endswith(".png") and \
                        all(p.isdigit() for p in (parts[1], parts[2], parts[3][:-4])):
                    tile = int(parts[1]), int(parts[2]), int(parts[3][:-4])
                    peer.requests.append(tile)
                    body = peer.png(*tile)
                    self.send_response(200)
                    self.send_header("Content-Type", "image/png")
                    self.send_header("Content-Length", str(len(body)))
                    self.send_header("Cache-Control", "no-store")  # each page load asks again: tests count them
                    self.end_headers()
                    self.wfile.write(body)
                    return
                peer.others.append(self.path)
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._serve(Handler)

    @staticmethod
    def png(z: int, x: int, y: int) -> bytes:
        import io

        from PIL import Image, ImageDraw

        image = Image.new("RGB", (256, 256), "#e9e7e1")
        draw = ImageDraw.Draw(image)
        for step in range(0, 256, 64):
            draw.line([(step, 0), (step, 255)], fill="#d3d0c8")
            draw.line([(0, step), (255, step)], fill="#d3d0c8")
        draw.rectangle([0, 0, 255, 255], outline="#b9b5ab")
        draw.text((6, 4), f"{z}/{x}/{y}", fill="#8a867c")
        out = io.BytesIO()
        image.save(out, "PNG", optimize=True)
        return out.getvalue()

    @property
    def env(self) -> dict:
        return {"MINQING_MAP_TILES": self.url + "/tiles/{z}/{x}/{y}.png", "MINQING_MAP_TILES_CRS": self.crs,
                "MINQING_MAP_ATTRIBUTION": "测试瓦片 © minqing tests"}
