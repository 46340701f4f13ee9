"""Pingback 1.0 receiving: Python's own xmlrpc.client against the live server, and hostile XML-RPC."""

from __future__ import annotations

import gzip
import time
import xmlrpc.client

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse

from comments.models import Comment
from tests import factories
from tests.interop.loopback import LoopbackHTTP, Reply


class ClientTransport(xmlrpc.client.Transport):
    """xmlrpc.client's own marshalling, carried by Django's test client instead of a socket."""

    def __init__(self, client):
        super().__init__()
        self.client = client

    def request(self, host, handler, request_body, verbose=False):
        response = self.client.post(handler, request_body, content_type="text/xml", HTTP_HOST=host)
        if response.status_code != 200:
            raise xmlrpc.client.ProtocolError(host + handler, response.status_code, "", {})
        parser, unmarshaller = self.getparser()
        parser.feed(response.content)
        parser.close()
        return unmarshaller.close()


@pytest.fixture
def site(settings, db, client):
    """The site as xmlrpc.client sees it, through the test client (fast); see the live test below."""
    settings.SITE_DOMAIN = "testserver"
    settings.LINKBACK_HOLD_FIRST_FROM_SOURCE = False

    class Site:
        url = "http://testserver"
        proxy = xmlrpc.client.ServerProxy("http://testserver/xmlrpc.php", transport=ClientTransport(client))

    return Site


@pytest.fixture
def source_server(settings):
    with LoopbackHTTP() as server:
        settings.LINKBACK_ALLOWED_HOSTS = [server.host]
        yield server


def _linking_page(target: str) -> bytes:
    return (
        "<html><head><title>Notes from Lima</title></head><body><article>"
        "<p>We read a good piece on sanitation markets, and you can find it "
        f'<a href="{target}">on the sector blog</a>, with the field notes from three towns.</p>'
        "</article></body></html>"
    ).encode()


def _proxy(site):
    return site.proxy


def test_xmlrpc_client_against_the_live_server(live_server, settings, transactional_db, source_server):
    """Interop: Python's xmlrpc.client over real HTTP: success, 48, 17, 32 and 33."""
    settings.SITE_DOMAIN = live_server.url.split("://", 1)[1]
    settings.LINKBACK_HOLD_FIRST_FROM_SOURCE = False
    proxy = xmlrpc.client.ServerProxy(live_server.url + "/xmlrpc.php")
    post = factories.PostFactory()
    closed = factories.PostFactory(allow_pings=False)
    target = live_server.url + post.get_absolute_url()
    source_server.routes["/lima"] = Reply(body=_linking_page(target))
    source_server.routes["/nolink"] = Reply(body=b"<p>nothing</p>")
    source = source_server.url("/lima")

    assert "registered" in proxy.pingback.ping(source, target)
    codes = []
    for args in [
        (source, target),
        (source_server.url("/nolink"), target),
        (source, live_server.url + "/2001/01/01/missing/"),
        (source, live_server.url + closed.get_absolute_url()),
    ]:
        with pytest.raises(xmlrpc.client.Fault) as info:
            proxy.pingback.ping(*args)
        codes.append(info.value.faultCode)
    assert codes == [48, 17, 32, 33]
    assert Comment.objects.filter(post=post, kind="pingback", source_url=source).count() == 1
    assert proxy.pingback.extensions.getPingbacks(target) == [source]


def test_xmlrpc_client_pings_and_the_pingback_appears_on_the_post(site, source_server, client):
    post = factories.PostFactory()
    target = site.url + post.get_absolute_url()
    source_server.routes["/lima"] = Reply(body=_linking_page(target))
    source = source_server.url("/lima")

    result = _proxy(site).pingback.ping(source, target)

    assert "registered" in result
    pingback = Comment.objects.get(post=post, kind="pingback")
    assert pingback.source_url == source and pingback.source_title == "Notes from Lima"
    assert "on the sector blog" in pingback.excerpt and pingback.is_public
    page = BeautifulSoup(client.get(post.get_absolute_url()).content, "html.parser")
    assert "[…]" in page.get_text() and "on the sector blog" in page.get_text()
    assert _proxy(site).pingback.extensions.getPingbacks(target) == [source]


def test_repeat_ping_updates_and_answers_fault_48(site, source_server):
    post = factories.PostFactory()
    target = site.url + post.get_absolute_url()
    source_server.routes["/lima"] = Reply(body=_linking_page(target))
    source = source_server.url("/lima")
    _proxy(site).pingback.ping(source, target)
    source_server.routes["/lima"] = Reply(
        body=_linking_page(target).replace(b"Notes from Lima", b"Updated notes")
    )
    with pytest.raises(xmlrpc.client.Fault) as info:
        _proxy(site).pingback.ping(source, target)
    assert info.value.faultCode == 48
    assert Comment.objects.filter(post=post, source_url=source).count() == 1
    assert Comment.objects.get(post=post, source_url=source).source_title == "Updated notes"


@pytest.mark.parametrize(
    "page",
    [
        b"<p>No link here, only text: {target}</p>",
        b"<p>Hidden <!-- <a href='{target}'>in a comment</a> --> only.</p>",
        b"<p><a href='{target}x'>almost</a></p>",
    ],
)
def test_source_without_an_exact_link_is_fault_17(site, source_server, page):
    post = factories.PostFactory()
    target = site.url + post.get_absolute_url()
    source_server.routes["/nolink"] = Reply(body=page.replace(b"{target}", target.encode()))
    with pytest.raises(xmlrpc.client.Fault) as info:
        _proxy(site).pingback.ping(source_server.url("/nolink"), target)
    assert info.value.faultCode == 17
    assert not Comment.objects.filter(post=post).exists()


def test_unknown_target_is_fault_32_and_closed_post_is_33(site, source_server):
    source_server.routes["/p"] = Reply(body=b"<p>x</p>")
    with pytest.raises(xmlrpc.client.Fault) as missing:
        _proxy(site).pingback.ping(source_server.url("/p"), site.url + "/2020/01/01/no-such-post/")
    assert missing.value.faultCode == 32
    with pytest.raises(xmlrpc.client.Fault) as elsewhere:
        _proxy(site).pingback.ping(source_server.url("/p"), "https://other.example/2020/01/01/x/")
    assert elsewhere.value.faultCode == 32
    closed = factories.PostFactory(allow_pings=False)
    with pytest.raises(xmlrpc.client.Fault) as info:
        _proxy(site).pingback.ping(source_server.url("/p"), site.url + closed.get_absolute_url())
    assert info.value.faultCode == 33
    draft = factories.PostFactory(status="draft", published_at=None)
    with pytest.raises(xmlrpc.client.Fault) as info:
        _proxy(site).pingback.ping(source_server.url("/p"), site.url + draft.get_absolute_url())
    assert info.value.faultCode == 32
    assert source_server.requests == []  # no fetch for a target we refuse


def test_unreachable_timeout_and_no_link_look_identical(site, source_server, settings):
    """Issue 11 case 9: no oracle between a closed port, a timeout, a private host and no link."""
    settings.LINKBACK_FETCH_DEADLINE = 0.5
    post = factories.PostFactory()
    target = site.url + post.get_absolute_url()
    source_server.routes["/nolink"] = Reply(body=b"<p>nothing</p>")
    source_server.routes["/slow"] = Reply(body=b"<p>" + b"x" * 50 + b"</p>", drip_delay=0.05)
    sources = [
        source_server.url("/nolink"),
        source_server.url("/slow"),
        "http://127.0.0.1:9/closed",
        "http://10.20.30.40/internal",
        "http://no-such-host.invalid/",
    ]
    answers = set()
    for source in sources:
        with pytest.raises(xmlrpc.client.Fault) as info:
            _proxy(site).pingback.ping(source, target)
        answers.add((info.value.faultCode, info.value.faultString))
    assert answers == {(17, "The source URI does not contain a link to the target URI.")}


def test_only_the_two_pingback_methods_exist(site):
    proxy = _proxy(site)
    for call in (
        lambda: proxy.system.listMethods(),
        lambda: proxy.system.multicall([{"methodName": "pingback.ping", "params": ["a", "b"]}]),
        lambda: proxy.wp.getUsersBlogs("admin", "admin"),
    ):
        with pytest.raises(xmlrpc.client.Fault) as info:
            call()
        assert info.value.faultCode == -32601


def test_struct_where_a_string_belongs_is_a_fault(site):
    with pytest.raises(xmlrpc.client.Fault) as info:
        _proxy(site).pingback.ping({"url": "http://a.example/"}, ["x"])
    assert info.value.faultCode == 0


def test_get_is_refused_with_405(client):
    assert client.get("/xmlrpc.php").status_code == 405
    assert client.get("/xmlrpc/").status_code == 405


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<methodCall><methodName>pingback.ping</methodName><params><param><value>&lol4;</value></param>
<param><value>x</value></param></params></methodCall>"""
QUADRATIC = (
    b'<?xml version="1.0"?><!DOCTYPE q [<!ENTITY a "'
    + b"a" * 50_000
    + b'">]><methodCall><methodName>pingback.ping</methodName><params><param><value>'
    + b"&a;" * 10_000
    + b"</value></param></params></methodCall>"
)
XXE = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<methodCall><methodName>pingback.ping</methodName><params><param><value>&x;</value></param>
<param><value>y</value></param></params></methodCall>"""
SMUGGLED_DOCTYPE = b"""<?xml version="1.0" encoding="UTF-16"?>"""


@pytest.mark.parametrize(
    "body",
    [
        BILLION_LAUGHS,
        QUADRATIC,
        XXE,
        b"<methodCall>" + b"<x/>" * 10_001 + b"</methodCall>",
        b"not xml at all",
        b"<methodCall><methodName>pingback.ping",
        b"<?xml version='1.0'?><methodResponse/>",
        "<?xml version='1.0' encoding='UTF-16'?><!DOCTYPE a [<!ENTITY b 'c'>]><methodCall/>".encode("utf-16"),
    ],
    ids=[
        "billion-laughs",
        "quadratic",
        "xxe-file",
        "10001-elements",
        "garbage",
        "truncated",
        "not-a-call",
        "utf16",
    ],
)
def test_hostile_xml_gets_400_quickly(client, body):
    """Issue 11 case 8: each hostile XML-RPC body is refused before any expansion, never a 500."""
    start = time.monotonic()
    response = client.post("/xmlrpc.php", body, content_type="text/xml")
    assert response.status_code == 400
    assert b"root:" not in response.content
    assert time.monotonic() - start < 2


def test_fifty_megabyte_and_gzip_bodies_are_refused(client):
    big = b"<methodCall>" + b" " * (50 * 1024 * 1024) + b"</methodCall>"
    response = client.post("/xmlrpc.php", big, content_type="text/xml")
    assert response.status_code == 400
    bomb = gzip.compress(b"<methodCall>" + b" " * (50 * 1024 * 1024) + b"</methodCall>")
    response = client.post("/xmlrpc.php", bomb, content_type="text/xml", headers={"Content-Encoding": "gzip"})
    assert response.status_code == 400


def test_any_content_type_is_accepted(client, db):
    call = xmlrpc.client.dumps(
        ("http://a.example/x", "http://testserver/2020/01/01/nothing/"), "pingback.ping"
    )
    for ctype in ("application/x-www-form-urlencoded", "text/xml", "application/octet-stream"):
        response = client.post(reverse("linkbacks:xmlrpc"), call.encode(), content_type=ctype)
        assert response.status_code == 200
        with pytest.raises(xmlrpc.client.Fault) as info:
            xmlrpc.client.loads(response.content)
        assert info.value.faultCode == 32


def test_ping_flood_is_rate_limited_with_at_most_one_fetch_each(site, source_server, settings):
    """Issue 11 case 10: a flood naming one victim host costs at most one fetch per request."""
    settings.LINKBACK_RATE_PER_SOURCE_HOST = 3
    post = factories.PostFactory()
    target = site.url + post.get_absolute_url()
    source_server.routes["/victim"] = Reply(body=b"<p>no link</p>")
    codes = []
    for i in range(10):
        with pytest.raises(xmlrpc.client.Fault) as info:
            _proxy(site).pingback.ping(source_server.url(f"/victim?{i}"), target)
        codes.append(info.value.faultCode)
    assert codes == [17, 17, 17] + [49] * 7
    assert len(source_server.requests) == 3


def test_hostile_title_and_excerpt_are_inert_on_the_post_page(site, source_server, client):
    post = factories.PostFactory()
    target = site.url + post.get_absolute_url()
    source_server.routes["/x"] = Reply(
        body=(
            "<title>&lt;script&gt;alert(1)&lt;/script&gt;</title><p>&lt;img src=x onerror=alert(2)&gt; "
            f"<a href='{target}'>&lt;svg onload=alert(3)&gt;</a> &lt;iframe src=javascript:alert(4)&gt;</p>"
        ).encode()
    )
    assert "registered" in _proxy(site).pingback.ping(source_server.url("/x"), target)
    page = BeautifulSoup(client.get(post.get_absolute_url()).content, "html5lib")
    discussion = page.find("main")
    assert "alert(2)" in discussion.get_text()  # shown as text
    for element in discussion.find_all(True):
        assert element.name not in {"script", "iframe", "svg", "img"} or "alert" not in str(element)
        assert not [a for a in element.attrs if a.startswith("on")]
