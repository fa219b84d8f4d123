"""How a provider reaches its API: the proxy (a setting, else the standard environment
variables) and TLS (`verify`: on, off or a CA bundle; `cert`: a client certificate), checked
at `connect` and handed to the default transport.

httpx would read the proxy variables itself and mount a transport of its own for them,
which would bypass batchkit's (its deadline backend, its pool shards): so the client is made
with ``trust_env=False`` and the proxy is resolved here, once, for the API's host.
"""

from __future__ import annotations

import os
import ssl
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import attrs
import httpx

from ._errors import ConfigError


@attrs.frozen
class Network:
    """What the default transport is built with: `proxy` (None: direct) and `verify` (an
    `ssl.SSLContext`, or True for httpx's own default)."""

    proxy: httpx.Proxy | None = None
    verify: ssl.SSLContext | bool = True

    @property
    def proxy_password(self) -> str | None:
        """The proxy's password, if its URL holds one (masked in messages)."""
        return self.proxy.url.password if self.proxy is not None else None


def resolve(
    api_root: str,
    *,
    proxy: str | None,
    verify: bool | str,
    cert: str | Sequence[str] | None,
    provider: str,
) -> Network:
    """The network settings for `api_root`; `ConfigError` naming the setting if one is
    unusable (a bad proxy URL, a CA bundle or certificate that cannot be read)."""
    return Network(_proxy(api_root, proxy, provider), _verify(verify, cert, provider))


def _proxy(api_root: str, proxy: str | None, provider: str) -> httpx.Proxy | None:
    url = httpx.URL(api_root)
    if proxy is None:
        if urllib.request.proxy_bypass(url.host or ""):  # NO_PROXY (and loopback rules)
            return None
        found = urllib.request.getproxies()
        proxy = found.get(url.scheme) or found.get("all")
        if not proxy:
            return None
        setting = f"the {url.scheme.upper()}_PROXY environment variable"
    else:
        setting = "proxy"
    try:
        parsed = httpx.URL(proxy if "://" in proxy else f"http://{proxy}")
    except (httpx.InvalidURL, TypeError, UnicodeError) as e:
        raise ConfigError(f"{provider}: {setting} is not a URL: {e}") from None
    if parsed.scheme not in ("http", "https", "socks5", "socks5h") or not parsed.host:
        raise ConfigError(
            f"{provider}: {setting} must be an http://, https:// or socks5:// URL with a host, "
            f"e.g. http://proxy.example.com:3128"
        )
    return httpx.Proxy(parsed)


def _verify(
    verify: bool | str, cert: str | Sequence[str] | None, provider: str
) -> ssl.SSLContext | bool:
    if cert is None and isinstance(verify, bool):
        return verify  # httpx's own: certifi's CAs (SSL_CERT_FILE / SSL_CERT_DIR honoured)
    try:
        if verify is False:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        elif verify is True:
            context = httpx.create_ssl_context()
        else:
            bundle = Path(os.path.expanduser(verify))
            if bundle.is_dir():
                context = ssl.create_default_context(capath=str(bundle))
            elif bundle.is_file():
                context = ssl.create_default_context(cafile=str(bundle))
            else:
                raise ConfigError(
                    f"{provider}: verify={verify!r} is neither a CA bundle file nor a "
                    "directory of CA certificates: pass its path, or true / false"
                )
        if cert is not None:
            files = [cert] if isinstance(cert, str) else list(cert)
            if not 1 <= len(files) <= 2 or not all(isinstance(f, str) for f in files):
                raise ConfigError(
                    f"{provider}: cert must be a PEM file (certificate and key) or "
                    "[certificate file, key file]"
                )
            context.load_cert_chain(*(os.path.expanduser(f) for f in files))
    except (OSError, ssl.SSLError) as e:
        raise ConfigError(
            f"{provider}: cannot load the TLS settings (verify / cert): {e}; check the paths "
            "and that the files are PEM"
        ) from None
    return context
