"""Alerts for a person: always logged, delivered in live runs, never raised into the algorithm.

What an alert is: a text from the risk gate (a limit tripped or cleared, an exit blocked, the
kill switch set) or from the LEAN host (a close that cannot be priced, a corrupt object-store
value). Each one goes, in this order:

1. to LEAN's log at once: ``algorithm.error`` when it is loud (anything but a limit being
   cleared), ``algorithm.log`` otherwise;
2. into a queue that :meth:`AlertChannel.flush` delivers at the end of the handler that raised
   it, after its orders went out, as ONE message with every queued alert:

   * QuantConnect notifications, in live mode on QuantConnect's cloud only
     (``deployment_target`` other than ``DeploymentTarget.LOCAL_PLATFORM``): open-source LEAN
     (``lean live deploy`` on your machine) only logs them (docs/lean-notes.md, "Live").
     ``notify.email(address, subject, body)`` when the ``alert_email`` parameter is set,
     ``notify.web(url, {"subject", "alerts"})`` when ``alert_webhook_url`` is;
   * SMTP through the standard library (``smtplib``, ``email``), in live mode, when the
     environment configures it. Configuration comes ONLY from environment variables (no
     secrets in the repository or in ``config.json``):

     ``THETADESK_SMTP_HOST``  server name; unset = no SMTP (the other variables are ignored)
     ``THETADESK_SMTP_PORT``  default 587; 465 means implicit TLS (``SMTP_SSL``)
     ``THETADESK_SMTP_USER`` and ``THETADESK_SMTP_PASSWORD``  login, both or neither
     ``THETADESK_SMTP_FROM``  sender address (required)
     ``THETADESK_SMTP_TO``  recipients, comma-separated (required)

     On any port but 465 the connection is upgraded with STARTTLS when the server offers it;
     a password is never sent over an unencrypted connection except to a loopback host.
     With ``lean live deploy`` the algorithm runs in Docker: pass the variables to the
     container (e.g. LEAN CLI ``--extra-docker-config '{"environment": {...}}'``).

Backtests log alerts and deliver nothing. A delivery failure is logged with ``algorithm.error``
and never raised. A bad SMTP configuration is reported once at start and SMTP stays off.

Threads: SMTP blocks (up to ``SMTP_TIMEOUT_SEC`` per attempt), so it never runs on the thread
that flushed: an alert raised in ``on_order_event`` is flushed on LEAN's brokerage thread while
it holds the order-event lock (``BrokerageTransactionHandler.HandleOrderEvents``), and a
blocking call there would hold up every order event. Mail goes through one worker thread
(:class:`Courier`, in order); QC notifications only enqueue (``NotificationManager.Email``
adds to a ``ConcurrentQueue``) and are sent at once. ``on_end_of_algorithm`` waits a bounded
time for the worker (:meth:`AlertChannel.drain`).
"""

from __future__ import annotations

import queue
import smtplib
import ssl
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import TYPE_CHECKING

from AlgorithmImports import DeploymentTarget

if TYPE_CHECKING:
    from AlgorithmImports import QCAlgorithm

ENV_PREFIX = "THETADESK_SMTP_"
DEFAULT_SMTP_PORT = 587
IMPLICIT_TLS_PORT = 465
SMTP_TIMEOUT_SEC = 10.0
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
DRAIN_TIMEOUT_SEC = 30.0

"""Parameter names read with ``get_parameter`` until they are fields of ``Parameters``."""

QUIET_MARKERS = (" cleared:", " cleared by ", "follows the parameter again")
"""Alert texts with these are informational (a limit cleared, an override released)."""


class SmtpConfigError(ValueError):
    """The THETADESK_SMTP_* environment is incomplete or malformed."""


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send alert mail (from the environment, see the module docstring)."""

    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    user: str = ""
    password: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SmtpSettings | None:
        """Settings from ``THETADESK_SMTP_*`` in ``env``; ``None`` when HOST is unset.

        Raises:
            SmtpConfigError: naming the variable that is missing or malformed.
        """
        host = env.get(ENV_PREFIX + "HOST", "").strip()
        if not host:
            return None
        port_text = env.get(ENV_PREFIX + "PORT", "").strip() or str(DEFAULT_SMTP_PORT)
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise SmtpConfigError(f"{ENV_PREFIX}PORT={port_text!r} is not a port number")
        sender = env.get(ENV_PREFIX + "FROM", "").strip()
        recipients = tuple(a.strip() for a in env.get(ENV_PREFIX + "TO", "").split(",") if a.strip())
        user, password = env.get(ENV_PREFIX + "USER", ""), env.get(ENV_PREFIX + "PASSWORD", "")
        if not sender or not recipients:
            raise SmtpConfigError(f"{ENV_PREFIX}HOST is set but {ENV_PREFIX}FROM and {ENV_PREFIX}TO are required")
        if bool(user) != bool(password):
            raise SmtpConfigError(f"set both {ENV_PREFIX}USER and {ENV_PREFIX}PASSWORD, or neither")
        return cls(host, int(port_text), sender, recipients, user, password)


def send_mail(settings: SmtpSettings, subject: str, body: str, timeout_sec: float = SMTP_TIMEOUT_SEC) -> None:
    """Send one plain-text message (see the module docstring for TLS and login).

    Raises:
        OSError: ``smtplib.SMTPException``, ``ssl.SSLError`` or a socket error.
    """
    message = EmailMessage()
    message["Subject"], message["From"], message["To"] = subject, settings.sender, ", ".join(settings.recipients)
    message.set_content(body)
    context = ssl.create_default_context()
    if settings.port == IMPLICIT_TLS_PORT:
        server: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout_sec, context=context)
    else:
        server = smtplib.SMTP(settings.host, settings.port, timeout=timeout_sec)
    with server:
        server.ehlo()
        encrypted = settings.port == IMPLICIT_TLS_PORT
        if not encrypted and server.has_extn("starttls"):
            server.starttls(context=context)
            server.ehlo()
            encrypted = True
        if settings.user:
            if not encrypted and settings.host not in LOOPBACK_HOSTS:
                raise smtplib.SMTPException(f"{settings.host} offers no TLS: the password is not sent in clear")
            server.login(settings.user, settings.password)
        server.send_message(message)


class Courier:
    """One daemon worker thread running delivery jobs in order (started on the first job)."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[Callable[[], None]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def post(self, job: Callable[[], None]) -> None:
        """Queue ``job`` (it must not raise: failures are its own to report)."""
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="thetadesk-alerts", daemon=True)
                self._thread.start()
        self._jobs.put(job)

    def drain(self, timeout_sec: float) -> bool:
        """Wait until every queued job ran, at most ``timeout_sec``; True when done."""
        done = threading.Event()
        self.post(done.set)
        return done.wait(timeout_sec)

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            job()


def is_loud(text: str) -> bool:
    """True for alerts logged with ``algorithm.error`` (all but a limit cleared)."""
    return not any(marker in text for marker in QUIET_MARKERS)


@dataclass
class AlertChannel:
    """Logs every alert at once and delivers the queued ones on :meth:`flush` (live only)."""

    algorithm: QCAlgorithm
    smtp: SmtpSettings | None = None
    email_address: str = ""
    webhook_url: str = ""
    raised: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    courier: Courier = field(default_factory=Courier)

    @classmethod
    def create(cls, algorithm: QCAlgorithm, env: Mapping[str, str], email: str = "",
               webhook: str = "") -> AlertChannel:
        """The channel of this run: SMTP from ``env``; ``email``/``webhook`` from the
        ``alert_email``/``alert_webhook_url`` parameters.
        A bad SMTP environment is logged with ``algorithm.error``; SMTP then stays off."""
        try:
            smtp = SmtpSettings.from_env(env)
        except SmtpConfigError as exc:
            algorithm.error(f"ALERT SMTP configuration ignored: {exc}")
            smtp = None
        channel = cls(algorithm, smtp, email.strip(), webhook.strip())
        algorithm.log(f"alerts: {channel.describe()}")
        return channel

    def describe(self) -> str:
        """Where alerts go in this run (for the start-up log; never the password)."""
        out = ["log"]
        if self.algorithm.live_mode and self._in_cloud():
            out += [f"QC email {self.email_address}"] if self.email_address else []
            out += [f"QC web {self.webhook_url}"] if self.webhook_url else []
        if self.algorithm.live_mode and self.smtp is not None:
            out.append(f"SMTP {self.smtp.host}:{self.smtp.port} to {', '.join(self.smtp.recipients)}")
        return ", ".join(out)

    def alert(self, text: str) -> None:
        """Log ``text`` now (loud or not, :func:`is_loud`) and queue it for delivery."""
        line = f"ALERT {text}"
        self.raised.append(text)
        if is_loud(text):
            self.algorithm.error(line)
        else:
            self.algorithm.log(line)
        if self.algorithm.live_mode:
            self.pending.append(text)

    def flush(self) -> None:
        """Deliver the queued alerts as one message on every configured channel: QC notify
        at once (it only enqueues), SMTP on the worker thread (never blocks the caller)."""
        if not self.pending:
            return
        alerts, self.pending = self.pending, []
        subject = f"ThetaDesk: {len(alerts)} alert(s): {alerts[0][:80]}"
        body = "\n".join(alerts)
        if self._in_cloud():
            self._deliver("QC notify", lambda: self._notify(subject, body, alerts))
        if self.smtp is not None:
            smtp = self.smtp
            self.courier.post(lambda: self._deliver(f"SMTP {smtp.host}:{smtp.port}",
                                                    lambda: send_mail(smtp, subject, body)))

    def drain(self, timeout_sec: float = DRAIN_TIMEOUT_SEC) -> None:
        """Wait (bounded) for the mail worker; logs when it did not finish in time."""
        if self.smtp is not None and not self.courier.drain(timeout_sec):
            self.algorithm.error(f"alert delivery: SMTP still busy after {timeout_sec:g} s")

    def report(self, subject: str, body: str) -> None:
        """Log a report (the daily after-close report) line by line with ``algorithm.log`` and,
        in live mode, deliver it as its own message on every configured channel (not an alert:
        never ``error``, never queued with alerts; SMTP on the worker thread, as :meth:`flush`)."""
        for line in [subject, *body.splitlines()]:
            self.algorithm.log(f"REPORT {line}")
        if not self.algorithm.live_mode:
            return
        if self._in_cloud():
            self._deliver("QC notify", lambda: self._notify(subject, body, [body]))
        if self.smtp is not None:  # on the worker thread: never SMTP inside the entry lock
            smtp = self.smtp
            self.courier.post(lambda: self._deliver(f"SMTP {smtp.host}:{smtp.port}",
                                                    lambda: send_mail(smtp, subject, body)))

    def _notify(self, subject: str, body: str, alerts: list[str]) -> None:
        notify = self.algorithm.notify
        if self.email_address:
            notify.email(self.email_address, subject, body)
        if self.webhook_url:
            notify.web(self.webhook_url, {"subject": subject, "alerts": alerts})

    def _deliver(self, channel: str, send: Callable[[], None]) -> None:
        try:
            send()
        except Exception as exc:  # noqa: BLE001 - a failed delivery must never stop the algorithm
            text = f"alert delivery by {channel} failed: {type(exc).__name__}: {exc}"
            self.failures.append(text)
            self.algorithm.error(text)

    def _in_cloud(self) -> bool:
        return bool(self.algorithm.deployment_target != DeploymentTarget.LOCAL_PLATFORM)
