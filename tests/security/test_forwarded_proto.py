"""Behind a TLS proxy the console's cookies are Secure, if and only if the proxy is trusted.

`exportflow api` runs as a process with EXPORTFLOW_FORWARDED_ALLOW_IPS=127.0.0.2. A request from
127.0.0.2 (the "proxy") saying `X-Forwarded-Proto: https` gets Secure cookies; the same request
from 127.0.0.1, which is not on the list, does not: anyone could send that header.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from http.cookies import SimpleCookie

import httpx
import pytest

from schemas.common import Role
from services.db import auth_repo
from services.db.engine import make_engine, session_factory
from services.web.session import CSRF_COOKIE, SESSION_COOKIE
from tests.conftest import migrated_database
from tests.e2e.procs import free_port, wait_http
from tests.ops.support import api_spec, ops_env, processes

pytestmark = pytest.mark.e2e

PROXY = "127.0.0.2"  # any 127/8 address reaches a server on 127.0.0.1 (Linux)
HTTPS = {"X-Forwarded-Proto": "https"}


@pytest.fixture(scope="module", params=["one process", "--workers 2"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """The API's base URL and a viewer's token; the API trusts only PROXY's forwarded headers."""
    with migrated_database("sqlite", tmp_path_factory.mktemp("proxy")) as url:
        engine = make_engine(url)
        with session_factory(engine, write=True)() as session:
            token = auth_repo.create_token(
                session, user="pat", role=Role.VIEWER, now=datetime.now(UTC)
            )
            session.commit()
        engine.dispose()
        env = ops_env(url, f"127.0.0.1:{free_port()}", forwarded_allow_ips=PROXY)
        port = free_port()
        extra = ["--workers", "2"] if request.param == "--workers 2" else []
        with processes(api_spec(env, port, *extra)):
            base = f"http://127.0.0.1:{port}"
            wait_http(base + "/healthz")
            yield base, token


def client(base: str, source: str) -> httpx.Client:
    """A client whose connections come from `source`."""
    transport = httpx.HTTPTransport(local_address=source)
    return httpx.Client(base_url=base, transport=transport, follow_redirects=False)


def cookies(response: httpx.Response) -> dict[str, SimpleCookie]:
    """Every cookie the response sets, by name, with its attributes."""
    found: dict[str, SimpleCookie] = {}
    for header in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        found.update(dict.fromkeys(jar, jar))
    return found


def sign_in(http: httpx.Client, token: str, headers: dict[str, str]) -> dict[str, SimpleCookie]:
    """The sign-in form, then signing in: every cookie set along the way."""
    form = http.get("/signin", headers=headers)
    assert form.status_code == 200
    csrf = cookies(form)[CSRF_COOKIE][CSRF_COOKIE].value
    done = http.post(
        "/signin",
        data={"token": token, "csrf_token": csrf, "next": "/orders"},
        headers=headers | {"Cookie": f"{CSRF_COOKIE}={csrf}"},
    )
    assert done.status_code == 303, done.text
    return cookies(form) | cookies(done)


def secure(jars: dict[str, SimpleCookie], name: str) -> bool:
    """True when cookie `name` was set with the Secure attribute."""
    return bool(jars[name][name]["secure"])


def test_https_from_the_trusted_proxy_makes_the_cookies_secure(served: tuple[str, str]) -> None:
    base, token = served
    with client(base, PROXY) as http:
        jars = sign_in(http, token, HTTPS)
    assert secure(jars, CSRF_COOKIE)
    assert secure(jars, SESSION_COOKIE)
    assert jars[SESSION_COOKIE][SESSION_COOKIE]["httponly"]


def test_the_same_header_from_anyone_else_is_ignored(served: tuple[str, str]) -> None:
    base, token = served
    with client(base, "127.0.0.1") as http:
        jars = sign_in(http, token, HTTPS)
    assert not secure(jars, CSRF_COOKIE)
    assert not secure(jars, SESSION_COOKIE)


def test_plain_http_from_the_proxy_stays_plain(served: tuple[str, str]) -> None:
    base, token = served
    with client(base, PROXY) as http:
        jars = sign_in(http, token, {})
    assert not secure(jars, SESSION_COOKIE)
