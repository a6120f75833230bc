# Connect the demo shops the way a merchant does: the authorization link, the platform's page, the receiver's callback.
"""Connecting a shop through the real authorization flow.

1. `syncstore.shops.oauth.start_authorization` makes the link, as the Connections page does for an Admin.
2. The platform (simulator) shows its authorization page; the seller picks the shop. Here the page
   is read and its link for the demo shop is followed, like a click.
3. The platform redirects the browser to the receiver's `/oauth/<platform>/callback`, which
   exchanges the code, stores the encrypted tokens and registers the webhooks, then redirects to
   the app's Connections page with `?connected=<platform>:<shop>` or `?error=<reason>`.

Redirects are followed by hand up to the app's URL (the app need not be running for this).
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Final
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from demo.processes import DemoError
from syncstore.security.auth import Actor
from syncstore.security.crypto import Keyring
from syncstore.settings import Settings
from syncstore.shops import oauth

MAX_HOPS: Final = 6


class _Links(HTMLParser):
    """The anchors of an authorization page: (href, text)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href, self._text = dict(attrs).get("href"), []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text)))
            self._href = None


@dataclass(frozen=True)
class Connected:
    platform: str
    shop_ids: tuple[str, ...]
    webhooks_registered: bool


def _approve_link(page_url: str, html: str, shop_id: str) -> str:
    """The page's link that authorizes `shop_id` (the seller's click)."""
    parser = _Links()
    parser.feed(html)
    for href, _text in parser.links:
        target = urljoin(page_url, href)
        if parse_qs(urlsplit(target).query).get("shop_id") == [shop_id]:
            return target
    raise DemoError(f"the authorization page at {urlsplit(page_url).netloc} offers no link for shop {shop_id}")


def connect_shop(
    actor: Actor, platform: str, shop_id: str, *, settings: Settings, keyring: Keyring, timeout_s: float = 30.0
) -> Connected:
    """Authorize `shop_id` on `platform` through the link, the platform's page and the receiver's callback."""
    url = oauth.start_authorization(actor, platform, settings=settings, keyring=keyring)
    app_url = settings.app_url.rstrip("/")
    with httpx.Client(timeout=timeout_s, follow_redirects=False) as client:
        for _hop in range(MAX_HOPS):
            response = client.get(url)
            if response.is_redirect:
                url = urljoin(url, response.headers["location"])
                if url.startswith(app_url + "/"):
                    return _outcome(platform, url)
                continue
            if response.status_code == 200 and "text/html" in response.headers.get("content-type", ""):
                url = _approve_link(url, response.text, shop_id)
                continue
            raise DemoError(
                f"connecting {platform}: {urlsplit(url).netloc}{urlsplit(url).path} answered "
                f"{response.status_code}: {response.text[:200]}"
            )
    raise DemoError(f"connecting {platform}: more than {MAX_HOPS} redirects")


def _outcome(platform: str, app_url: str) -> Connected:
    query = parse_qs(urlsplit(app_url).query)
    if "error" in query:
        raise DemoError(f"connecting {platform} failed: {query['error'][0]} (see the receiver's log)")
    connected = query.get("connected", [""])[0]
    name, _, shops = connected.partition(":")
    if name != platform or not shops:
        raise DemoError(f"connecting {platform}: the receiver answered oddly ({connected!r})")
    return Connected(platform, tuple(shops.split(",")), webhooks_registered="warning" not in query)
