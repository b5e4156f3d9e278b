"""Fetch a web page for ingestion without SSRF: public addresses only (unless allowed), an optional host
allow-list, every redirect re-checked, a size cap, a timeout.

Each hop's host is resolved and every address must be global (not private, loopback, link-local, multicast,
reserved or the cloud metadata range); redirects are followed by hand so a public URL cannot bounce into the
internal network.
"""

from urllib.parse import urljoin, urlsplit

import httpx

from keel.core import urls
from keel.knowledge.loaders.base import LoadError

MAX_REDIRECTS = 5


def _check(url: str, allow_private: bool, allowlist: list[str]) -> None:
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if (
        host
        and allowlist
        and not any(host == allowed or host.endswith("." + allowed) for allowed in allowlist)
    ):
        raise LoadError(f"{url}: host {host} is not in KEEL_KNOWLEDGE_URL_ALLOWLIST")
    if (why := urls.problem(url, allow_private)) is not None:
        hint = " (set KEEL_KNOWLEDGE_ALLOW_PRIVATE_URLS=true to allow)" if "private" in why else ""
        raise LoadError(f"{url}: {why}{hint}")


def fetch(
    url: str, *, allow_private: bool, allowlist: list[str], max_bytes: int, timeout: float
) -> tuple[bytes, str]:
    """(content, content type) of `url` after redirects; LoadError with the reason otherwise."""
    with httpx.Client(
        timeout=timeout, follow_redirects=False, headers={"User-Agent": "keel-ingest/1"}
    ) as client:
        for _ in range(MAX_REDIRECTS + 1):
            _check(url, allow_private, allowlist)
            try:
                with client.stream("GET", url) as response:
                    if response.is_redirect:
                        url = urljoin(url, response.headers.get("location", ""))
                        continue
                    if response.status_code >= 400:
                        raise LoadError(f"{url}: HTTP {response.status_code}")
                    body = bytearray()
                    for piece in response.iter_bytes():
                        body += piece
                        if len(body) > max_bytes:
                            raise LoadError(
                                f"{url}: larger than {max_bytes} bytes (KEEL_KNOWLEDGE_MAX_DOCUMENT_BYTES)"
                            )
                    return bytes(body), response.headers.get("content-type", "")
            except httpx.HTTPError as exc:
                raise LoadError(f"{url}: {type(exc).__name__}: {exc}") from None
    raise LoadError(f"{url}: more than {MAX_REDIRECTS} redirects")
