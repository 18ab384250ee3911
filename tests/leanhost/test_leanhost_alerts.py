"""The alert channel: every alert logged, delivered in live runs only, by QuantConnect's
notifications in its cloud and by SMTP (configured from THETADESK_SMTP_* only) against a local
stub server; a delivery failure is logged and never stops the algorithm. Alerts are raised by
GIVEN NLV marks (100,000 then 94,000: the daily loss limit trips) on the ES world of 2020-01-06."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from es_world import RELAXED, calm_es_market, install_es_chain
from gate_world import trip_daily_loss
from smtp_stub import smtp_stub

TRIP = "LOSS_LIMIT_DAILY tripped: lost 6,000 USD = 6.0% of start-of-day NLV 100,000 >= 5.0%"


def _smtp_env(monkeypatch: pytest.MonkeyPatch, port: int, **extra: str) -> None:
    values = {"HOST": "127.0.0.1", "PORT": str(port), "FROM": "thetadesk@example.com",
              "TO": "ops@example.com, risk@example.com", **extra}
    for name, value in values.items():
        monkeypatch.setenv(f"THETADESK_SMTP_{name}", value)


def _run(lean: ModuleType, make_algorithm: Callable[..., Any], *, live: bool = True,
         cloud: bool = False, **params: str) -> Any:
    def setup(algorithm: Any) -> None:
        algorithm.live_mode = live
        if cloud:
            algorithm.deployment_target = lean.DeploymentTarget.CLOUD_PLATFORM

    algorithm = make_algorithm(setup=setup, **RELAXED, **params)
    install_es_chain(lean, algorithm)
    calm_es_market(algorithm)
    return algorithm


# ----- SMTP -------------------------------------------------------------------------------------
def test_when_a_local_live_run_trips_a_limit_then_one_mail_reaches_the_smtp_server(
    lean: ModuleType, make_algorithm: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    with smtp_stub() as (port, mailbox):
        _smtp_env(monkeypatch, port)
        algorithm = _run(lean, make_algorithm)
        trip_daily_loss(algorithm)
        algorithm.risk.alerts.drain()  # SMTP runs on the alert worker thread (leanhost/alerts.py)

    [mail] = mailbox.messages
    assert mail.sender == "thetadesk@example.com" and mail.recipients == ["ops@example.com", "risk@example.com"]
    assert mail.message["Subject"].startswith(f"ThetaDesk: 1 alert(s): {TRIP[:60]}")
    assert mail.message.get_content().startswith(TRIP)
    assert any(e.startswith(f"ALERT {TRIP}") for e in algorithm.errors)
    assert f"alerts: log, SMTP 127.0.0.1:{port} to ops@example.com, risk@example.com" in algorithm.logs
    assert algorithm.notify.emails == []  # local LEAN: QC notifications are not used


def test_when_the_smtp_server_is_down_then_the_failure_is_logged_and_the_run_goes_on(
    lean: ModuleType, make_algorithm: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _smtp_env(monkeypatch, port)
    algorithm = _run(lean, make_algorithm)

    trip_daily_loss(algorithm)
    algorithm.risk.alerts.drain()  # SMTP runs on the alert worker thread (leanhost/alerts.py)

    assert [e for e in algorithm.errors if "alert delivery" in e] == [
        f"alert delivery by SMTP 127.0.0.1:{port} failed: ConnectionRefusedError: [Errno 111] Connection refused"]
    assert "loss_daily" in algorithm.object_store.values["thetadesk/gate_state.json"]  # saved all the same


def test_when_a_backtest_trips_a_limit_then_it_is_logged_and_nothing_is_delivered(
    lean: ModuleType, make_algorithm: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    with smtp_stub() as (port, mailbox):
        _smtp_env(monkeypatch, port)
        algorithm = _run(lean, make_algorithm, live=False, cloud=True, alert_email="ops@example.com")
        trip_daily_loss(algorithm)

    assert mailbox.messages == [] and algorithm.notify.emails == []
    assert any(e.startswith(f"ALERT {TRIP}") for e in algorithm.errors)
    assert "alerts: log" in algorithm.logs


@pytest.mark.parametrize(
    ("env", "problem"),
    [({"PORT": "smtp"}, "THETADESK_SMTP_PORT='smtp' is not a port number"),
     ({"TO": ""}, "THETADESK_SMTP_HOST is set but THETADESK_SMTP_FROM and THETADESK_SMTP_TO are required"),
     ({"USER": "desk"}, "set both THETADESK_SMTP_USER and THETADESK_SMTP_PASSWORD, or neither")],
)
def test_when_the_smtp_environment_is_incomplete_then_it_is_reported_at_start_and_smtp_stays_off(
    lean: ModuleType, make_algorithm: Callable[..., Any], monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str], problem: str
) -> None:
    _smtp_env(monkeypatch, 25, **env)
    algorithm = _run(lean, make_algorithm)
    assert [e for e in algorithm.errors if e.startswith("ALERT SMTP configuration ignored: ")] == [
        f"ALERT SMTP configuration ignored: {problem}"]
    assert algorithm.risk.alerts.smtp is None


def test_when_the_server_offers_no_tls_then_a_password_is_never_sent_to_a_remote_host(
    host: Callable[[str], ModuleType], monkeypatch: pytest.MonkeyPatch
) -> None:
    alerts = host("alerts")
    calls: list[str] = []

    class PlainServer:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            calls.append("connect")

        def __enter__(self) -> PlainServer:
            return self

        def __exit__(self, *exc: object) -> None:
            calls.append("quit")

        def ehlo(self) -> None:
            calls.append("ehlo")

        def has_extn(self, name: str) -> bool:
            return False

        def login(self, user: str, password: str) -> None:
            calls.append("login")

        def send_message(self, message: Any) -> None:
            calls.append("send")

    monkeypatch.setattr(smtplib, "SMTP", PlainServer)
    settings = alerts.SmtpSettings("mail.example.com", 587, "a@example.com", ("b@example.com",), "desk", "secret")

    with pytest.raises(smtplib.SMTPException, match="offers no TLS: the password is not sent in clear"):
        alerts.send_mail(settings, "s", "b")

    assert calls == ["connect", "ehlo", "quit"]
    assert "secret" not in repr(settings)


# ----- QuantConnect notifications -----------------------------------------------------------------
def test_when_a_live_run_in_qc_cloud_trips_a_limit_then_notify_sends_the_email_and_the_webhook(
    lean: ModuleType, make_algorithm: Callable[..., Any]
) -> None:
    algorithm = _run(lean, make_algorithm, cloud=True, alert_email="ops@example.com",
                     alert_webhook_url="https://hooks.example.com/thetadesk")

    trip_daily_loss(algorithm)

    [(address, subject, body)] = algorithm.notify.emails
    assert address == "ops@example.com" and subject.startswith("ThetaDesk: 1 alert(s): LOSS_LIMIT_DAILY")
    assert body == TRIP + "; no new entries until the day 2020-01-06 ends"
    [(url, payload)] = algorithm.notify.webs
    assert url == "https://hooks.example.com/thetadesk" and payload == {"subject": subject, "alerts": [body]}


def test_when_an_alert_only_reports_a_limit_cleared_then_it_is_logged_not_raised_as_an_error(
    host: Callable[[str], ModuleType],
) -> None:
    alerts = host("alerts")
    assert alerts.is_loud(TRIP) and alerts.is_loud("KILL_SWITCH off (was on), set by object_store")
    assert not alerts.is_loud("LOSS_LIMIT_DAILY cleared: its day 2020-01-06 ended (2020-01-07 began)")
    assert not alerts.is_loud("loss_daily cleared by ops: start-of-day NLV 100000 -> 94000")
