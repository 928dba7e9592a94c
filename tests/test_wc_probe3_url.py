"""A variable's value inside the URL's authority cannot move the request to another host:
``http://api.example{x}/`` with ``x = "@evil.com"`` is a configuration error at ``url``."""

from __future__ import annotations

import pytest

from webhook_core import ConfigurationError, WebhookAction, prepare_request


@pytest.mark.rule("A4")
@pytest.mark.parametrize(
    ("url", "value"),
    [
        pytest.param("http://h.example{v}/x", "@evil.com", id="after-host-at"),
        pytest.param("http://h.example{v}/x", "x@evil.com:80", id="after-host-userinfo"),
        pytest.param("http://h.example{v}/x", "\\@evil.com", id="backslash-at"),
        pytest.param("http://h.example:{v}/x", "@evil.com", id="port-at"),
        pytest.param("http://{v}.example/x", "evil.com/", id="subdomain-slash"),
        pytest.param("http://{v}.example/x", "evil.com?", id="subdomain-query"),
        pytest.param("http://{v}.example/x", "evil.com#", id="subdomain-fragment"),
        pytest.param("https://{user}@h.example/x", "u/evil.com", id="userinfo-slash"),
        pytest.param("https://{user}@h.example/x", "a@evil.com", id="userinfo-at"),
        pytest.param("http://h.example{v}", "@evil.com", id="no-path"),
    ],
)
def test_a_value_in_the_authority_cannot_change_the_host(url: str, value: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        prepare_request(WebhookAction(url, "GET"), {"v": value, "user": value})
    assert caught.value.field == "url"
    assert caught.value.value == url
    assert "host" in caught.value.expected


@pytest.mark.parametrize(
    ("url", "value", "host"),
    [
        pytest.param("http://h.example/{v}", "@evil.com", "h.example", id="in-path"),
        pytest.param("http://h.example/x?q={v}", "x@evil.com/", "h.example", id="in-query"),
        pytest.param("http://{v}/x", "api.example", "api.example", id="host-is-a-variable"),
        pytest.param("{v}", "http://api.example/x", "api.example", id="url-is-a-variable"),
        pytest.param("http://{v}.example/x", "api", "api.example", id="subdomain"),
        pytest.param("http://h.example:{v}/x", "8080", "h.example", id="port"),
    ],
)
def test_values_elsewhere_or_plain_hosts_are_sent_as_before(
    url: str, value: str, host: str
) -> None:
    prepared = prepare_request(WebhookAction(url, "GET"), {"v": value})
    assert prepared.url.host == host
