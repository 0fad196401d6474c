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


def test_staff_cannot_reach_another_centres_rows(
    client, world, make_user, make_centre, make_session, make_person, make_activity
):
    other = make_centre()
    session = make_session(centre=other)
    person = make_person(centre=other)
    activity = make_activity(centre=other)
    ids = (session.id, person.id, activity.id)
    staff = make_user(username="anim", role=Role.animator, password=PASSWORD)
    token = csrf_token(client)
    client.post(
        "/connexion", data={"csrf_token": token, "username": staff.username, "password": PASSWORD}
    )
    session_id, person_id, activity_id = ids
    for url in (
        f"/animation/seances/{session_id}",
        f"/animation/seances/{session_id}/emargement.pdf",
        f"/animation/seances/{session_id}/modifier",
        f"/animation/seances/{session_id}/annuler",
        f"/animation/telephone/personnes/{person_id}",
        f"/animation/telephone/personnes/{person_id}/seances/{world.session.id}",
        f"/animation/telephone/personnes/{world.person.id}/seances/{session_id}",
        f"/animation/activites/{activity_id}/modifier",
        "/animation/seances/99999999999999999999",
    ):
        assert client.get(url).status_code == 404, url
    token = csrf_token(client, "/")
    response = client.post(
        f"/animation/seances/{session_id}/annuler", data={"csrf_token": token, "reason": "x"}
    )
    assert response.status_code == 404
