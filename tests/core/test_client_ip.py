"""core.client_ip: which address a request is counted against, with and without declared reverse proxies."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from haochaping.core.client_ip import ForwardedProtoMiddleware, client_ip, parse_networks

PROXY = "10.0.0.1"


def request(xff: str | None = None, remote: str = PROXY):
    extra = {"REMOTE_ADDR": remote}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return RequestFactory().get("/", **extra)


@pytest.mark.parametrize("xff", [None, "203.0.113.9", "1.2.3.4, 203.0.113.9"])
def test_without_trusted_proxies_the_header_is_ignored(settings, xff):
    settings.HAOCHAPING_TRUSTED_PROXIES = 0
    assert client_ip(request(xff, remote="198.51.100.7")) == "198.51.100.7"


@pytest.mark.parametrize(("proxies", "xff", "expected"), [
    (1, "203.0.113.9", "203.0.113.9"),
    # What the client wrote itself stays left of what the proxy appended: it cannot pick its address.
    (1, "1.2.3.4, 203.0.113.9", "203.0.113.9"),
    (1, " 1.2.3.4 ,203.0.113.9 ", "203.0.113.9"),
    (2, "203.0.113.9, 10.0.0.2", "203.0.113.9"),
    (2, "1.2.3.4, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
    (1, "2001:db8::1", "2001:db8::1"),
    (1, "2001:0db8:0000::0001", "2001:db8::1"),  # one spelling per address, so one count per address
])
def test_the_entry_the_outermost_proxy_appended(settings, proxies, xff, expected):
    settings.HAOCHAPING_TRUSTED_PROXIES = proxies
    assert client_ip(request(xff)) == expected


@pytest.mark.parametrize(("proxies", "xff"), [
    (1, None),  # reached the server without the proxy
    (1, ""),
    (2, "203.0.113.9"),  # passed only one of two proxies
    (1, "unknown"),
    (1, "203.0.113.9, <script>"),
])
def test_a_request_that_did_not_pass_every_proxy_counts_against_its_sender(settings, proxies, xff):
    settings.HAOCHAPING_TRUSTED_PROXIES = proxies
    assert client_ip(request(xff)) == PROXY


def test_a_wrong_setting_stops_the_start_with_the_variable_named(monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import haochaping.settings as project_settings

    monkeypatch.setenv("HAOCHAPING_TRUSTED_PROXIES", "one")
    with pytest.raises(ImproperlyConfigured, match="HAOCHAPING_TRUSTED_PROXIES"):
        importlib.reload(project_settings)
    monkeypatch.delenv("HAOCHAPING_TRUSTED_PROXIES")
    assert importlib.reload(project_settings).HAOCHAPING_TRUSTED_PROXIES == 0


@pytest.mark.parametrize(("proxies", "remote", "xff", "expected"), [
    (1, PROXY, "1.2.3.4, 203.0.113.9", "203.0.113.9"),  # from the proxy: believed
    (1, "10.0.0.77", "203.0.113.9", "203.0.113.9"),  # a network, not only one address
    # Straight to the node's port, past the proxy, with a header written by the visitor: not believed.
    (1, "198.51.100.7", "203.0.113.9", "198.51.100.7"),
    # Two proxies: the inner one's entry (the outer proxy's address) must be a proxy too.
    (2, PROXY, "203.0.113.9, 10.0.0.2", "203.0.113.9"),
    (2, PROXY, "1.2.3.4, 203.0.113.9", PROXY),
    (1, "unknown", "203.0.113.9", "unknown"),
])
def test_with_proxy_networks_only_the_proxies_are_believed(settings, proxies, remote, xff, expected):
    settings.HAOCHAPING_TRUSTED_PROXIES = proxies
    settings.HAOCHAPING_TRUSTED_PROXY_NETWORKS = parse_networks("10.0.0.0/24, 2001:db8::1", "X")
    assert client_ip(request(xff, remote=remote)) == expected


def test_proxy_networks_are_read_and_a_wrong_one_is_named():
    from django.core.exceptions import ImproperlyConfigured

    assert [str(n) for n in parse_networks(" 10.0.0.5 ,10.0.1.0/24,,fd00::/8", "X")] == [
        "10.0.0.5/32", "10.0.1.0/24", "fd00::/8"]
    assert parse_networks("", "X") == ()
    with pytest.raises(ImproperlyConfigured, match="HAOCHAPING_TRUSTED_PROXY_NETWORKS.*'nginx'"):
        parse_networks("10.0.0.5,nginx", "HAOCHAPING_TRUSTED_PROXY_NETWORKS")


@pytest.mark.parametrize(("networks", "remote", "secure"), [
    ("", "198.51.100.7", True),  # no networks declared: believed, as before (documented deployment behind nginx)
    ("10.0.0.0/24", PROXY, True),
    ("10.0.0.0/24", "198.51.100.7", False),  # a visitor on the node's port directly cannot claim https
])
def test_forwarded_proto_is_believed_only_from_declared_proxies(settings, networks, remote, secure):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.HAOCHAPING_TRUSTED_PROXY_NETWORKS = parse_networks(networks, "HAOCHAPING_TRUSTED_PROXY_NETWORKS")
    seen = {}

    def view(req):
        seen["secure"] = req.is_secure()
        return None

    req = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_PROTO="https")
    ForwardedProtoMiddleware(view)(req)
    assert seen["secure"] is secure
