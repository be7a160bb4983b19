"""The deployment files in infra/ validate offline: the SAM template passes cfn-lint and matches the app's
routes and handlers, gunicorn accepts its config, systemd its units, nginx its site, and the compose file
parses with the services it promises."""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

INFRA = Path(__file__).resolve().parent.parent / "infra"
ROOT = INFRA.parent
KEY = "infra-test-" + "k" * 32  # long enough for the app to start


def sam_template() -> dict:
    from cfnlint.decode import cfn_yaml

    return cfn_yaml.load(str(INFRA / "template.yaml"))


def test_the_sam_template_passes_cfn_lint():
    from cfnlint.api import ManualArgs, lint_file

    assert [str(match) for match in lint_file(INFRA / "template.yaml", config=ManualArgs())] == []


def test_every_http_function_in_the_template_routes_to_its_own_handler():
    from functions.app import create_app
    from minqing.settings import load_settings

    # The template deploys the serverless functions (intake, receipts, tallies); pages and the staff API run
    # on a WSGI host.
    app = create_app(load_settings({"MINQING_SECRET_KEY": KEY, "MINQING_DATA_DIR": "/nonexistent"}),
                     areas={"hazard", "consultation", "enterprise", "receipts", "tallies", "health"})
    routes = {(method, rule.rule.replace("<code>", "{code}")) for rule in app.url_map.iter_rules()
              if rule.endpoint != "static" for method in rule.methods - {"HEAD", "OPTIONS"}}
    functions = {name: r["Properties"] for name, r in sam_template()["Resources"].items()
                 if r["Type"] == "AWS::Serverless::Function"}
    served = set()
    for name, props in functions.items():
        module, attribute = props["Handler"].rsplit(".", 1)
        assert f"\n{attribute} = " in module_source(module) or f"\ndef {attribute}(" in module_source(module)
        for event in props.get("Events", {}).values():
            if event["Type"] == "HttpApi":
                served.add((event["Properties"]["Method"], event["Properties"]["Path"]))
    assert served == routes - {("GET", "/healthz"), ("GET", "/readyz")}
    assert functions["WorkerFunction"]["Handler"] == "workers.aws.handler"
    assert functions["WorkerFunction"]["Events"]["Queue"]["Properties"]["FunctionResponseTypes"] == [
        "ReportBatchItemFailures"]


def module_source(name: str) -> str:
    # Read, not imported: a handler module builds its app from the environment at import.
    return Path(importlib.util.find_spec(name).origin).read_text()


def test_the_template_takes_the_database_url_and_secret_as_hidden_parameters():
    parameters = sam_template()["Parameters"]
    assert parameters["DatabaseUrl"]["NoEcho"] and parameters["SecretKey"]["NoEcho"]


def test_gunicorn_accepts_its_config(tmp_path):
    result = subprocess.run([sys.executable, "-m", "gunicorn", "--check-config", "-c", str(INFRA / "gunicorn.conf.py")],
                            cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "MINQING_SECRET_KEY": KEY, "MINQING_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize("unit", ["minqing-web.service", "minqing-worker.service", "minqing-scheduler.service"])
def test_systemd_accepts_each_unit(tmp_path, unit):
    # The units name the installed paths (/opt/minqing/.venv); point them at this checkout to verify.
    text = (INFRA / "systemd" / unit).read_text()
    (tmp_path / unit).write_text(text.replace("/opt/minqing/.venv/bin/", f"{sys.prefix}/bin/")
                                 .replace("/opt/minqing/infra", str(INFRA)))
    result = subprocess.run(["systemd-analyze", "verify", str(tmp_path / unit)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("unit", ["minqing-web.service", "minqing-worker.service", "minqing-scheduler.service"])
def test_each_unit_creates_files_for_its_own_user_only(unit):
    assert "UMask=0077" in (INFRA / "systemd" / unit).read_text().splitlines()


@pytest.mark.skipif(shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists(),
                    reason="nginx is not installed (apt-get install nginx-light)")
def test_nginx_accepts_the_site(tmp_path):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=minqing",
                    "-keyout", str(tmp_path / "privkey.pem"), "-out", str(tmp_path / "fullchain.pem")],
                   check=True, capture_output=True)
    site = (INFRA / "nginx" / "minqing.conf").read_text().replace("/etc/ssl/minqing", str(tmp_path))
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp_path};\n  include {tmp_path}/site.conf;\n}}\n")
    result = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_nginx_forwards_the_client_address_and_scheme_the_app_trusts():
    site = (INFRA / "nginx" / "minqing.conf").read_text()
    app = site[site.index("location / {"):]
    app = app[:app.index("}")]
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in app
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in app
    assert "MINQING_TRUSTED_PROXIES=1" in (INFRA / "systemd" / "minqing.env.example").read_text().splitlines()


def test_the_compose_file_trusts_one_proxy_that_alone_can_reach_the_web_port():
    web = yaml.safe_load((INFRA / "compose.yaml").read_text())["services"]["web"]
    assert web["environment"]["MINQING_TRUSTED_PROXIES"] == "1"
    assert all(port.startswith("127.0.0.1:") for port in web["ports"])


def test_the_compose_file_runs_redis_with_aof_postgres_web_and_worker():
    compose = yaml.safe_load((INFRA / "compose.yaml").read_text())
    assert set(compose["services"]) == {"redis", "postgres", "web", "worker"}
    assert "--appendonly" in compose["services"]["redis"]["command"]
    for service in ("web", "worker"):
        env = compose["services"][service]["environment"]
        assert env["MINQING_BROKER_URL"].startswith("redis://") and env["MINQING_DATABASE_URL"].startswith("postgresql")
    assert (INFRA / compose["services"]["web"]["build"]["dockerfile"].split("/")[-1]).exists()
