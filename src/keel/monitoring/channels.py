"""Notification channels: a signed JSON webhook, a Slack incoming webhook, an e-mail over SMTP.

Webhook bodies are signed like Stripe's: `X-Keel-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<t>.<body>">` with the channel's secret, so a receiver can check both origin and freshness. Every URL is
checked again at delivery time (a name may have moved to a private address since the rule was saved).
"""

import hashlib
import hmac
import smtplib
import time
from email.message import EmailMessage
from typing import Any

import httpx
import orjson

from keel.core.secrets import SecretBox
from keel.core.urls import problem


class DeliveryError(Exception):
    pass


def payload(event: Any, rule: Any) -> dict[str, Any]:
    return {
        "event": f"alert.{event.state}",
        "id": event.id,
        "state": event.state,
        "project_id": event.project_id,
        "rule": {
            "name": rule.name,
            "metric": rule.metric,
            "comparison": rule.comparison,
            "threshold": rule.threshold,
            "window_s": rule.window_s,
            "filters": rule.filters,
        },
        "value": event.value,
        "count": event.count,
        "message": event.message,
        "traces_url": event.traces_url,
        "at": event.at.isoformat(),
    }


def deliver(
    channel: dict[str, Any], body: dict[str, Any], box: SecretBox, settings: Any, delivery_id: str
) -> None:
    timeout = settings.alert_delivery_timeout_seconds
    if channel["type"] in ("webhook", "slack"):
        url = channel["url"]
        if (why := problem(url, settings.webhook_allow_private)) is not None:
            raise DeliveryError(f"{url}: {why}")
        if channel["type"] == "slack":
            raw = orjson.dumps({"text": f"{body['message']}\n<{body['traces_url']}|traces>"})
            headers = {"content-type": "application/json"}
        else:
            raw = orjson.dumps(body)
            headers = {
                "content-type": "application/json",
                "x-keel-delivery": delivery_id,
                "x-keel-event": body["event"],
            }
            if channel.get("secret"):
                stamp = str(int(time.time()))
                key = box.decrypt(channel["secret"]).encode()
                digest = hmac.new(key, f"{stamp}.".encode() + raw, hashlib.sha256).hexdigest()
                headers["x-keel-signature"] = f"t={stamp},v1={digest}"
        try:
            reply = httpx.post(url, content=raw, headers=headers, timeout=timeout, follow_redirects=False)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{url}: {type(exc).__name__}: {exc}") from None
        if reply.status_code >= 300:
            raise DeliveryError(f"{url}: HTTP {reply.status_code}")
        return
    if not settings.smtp_host:
        raise DeliveryError("email channel but KEEL_SMTP_HOST is not set")
    message = EmailMessage()
    message["Subject"] = body["message"][:200]
    message["From"] = settings.smtp_from
    message["To"] = ", ".join(channel["to"])
    message.set_content(f"{body['message']}\n\nTraces: {body['traces_url']}\n")
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username and settings.smtp_password:
                smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(
            f"smtp {settings.smtp_host}:{settings.smtp_port}: {type(exc).__name__}: {exc}"
        ) from None
