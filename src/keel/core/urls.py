"""Outbound URLs without SSRF: the check shared by URL ingestion and alert webhooks.

A URL's host is resolved and every address must be global (not private, loopback, link-local, multicast,
reserved or the cloud metadata range); callers re-check at every hop and at delivery time, so a name that
later resolves somewhere internal is still refused.
"""

import ipaddress
import socket
from urllib.parse import urlsplit


def problem(url: str, allow_private: bool) -> str | None:
    """Why `url` may not be fetched, or None: not http(s) with a host, unresolvable, or not public."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "only http(s) URLs with a host are allowed"
    if allow_private:
        return None
    host = parts.hostname.lower().rstrip(".")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, ValueError) as exc:
        return f"cannot resolve {host}: {getattr(exc, 'strerror', None) or exc}"
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            return f"{host} resolves to {address}, a private or local address"
    return None
