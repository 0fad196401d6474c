"""Every /animation page is for staff only: carers and drivers get 403, visitors sign in."""

from __future__ import annotations

import pytest
from flask import Flask

from scheduling.models import Role
from tests.webapp.conftest import PASSWORD, csrf_token

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def animation_urls(app: Flask, ids: dict[str, int]) -> list[tuple[str, str]]:
    """(method, url) of every route of the animation blueprint, with real ids filled in."""
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("animation."):
                continue
            values = {arg: ids.get(arg, 1) for arg in rule.arguments}
            from flask import url_for

            url = url_for(rule.endpoint, **values, _external=False)
            method = "GET" if "GET" in rule.methods else "POST"
            urls.append((method, url))
    return urls


def test_the_blueprint_has_the_expected_pages(app, world):
    urls = animation_urls(app, {})
    assert len(urls) >= 15
    assert ("GET", "/animation/") in urls


@pytest.mark.parametrize("role", [Role.carer, Role.driver])
def test_carers_and_drivers_get_403_everywhere(app, client, world, make_user, role):
    user = make_user(username=f"u-{role.value}", role=role, password=PASSWORD)
    ids = {"session_id": world.session.id, "person_id": world.person.id}
    urls = animation_urls(app, ids)
    token = csrf_token(client)
    client.post(
        "/connexion", data={"csrf_token": token, "username": user.username, "password": PASSWORD}
    )
    token = csrf_token(client, "/")
    for method, url in urls:
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": token})
        assert response.status_code == 403, (method, url, response.status_code)


def test_visitors_are_sent_to_sign_in(app, client, world):
    for method, url in animation_urls(app, {"session_id": world.session.id}):
        if method == "GET":
            response = client.get(url)
            assert response.status_code == 302, url
            assert "/connexion" in response.headers["Location"]
