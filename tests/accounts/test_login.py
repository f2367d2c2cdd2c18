import pytest

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_to_root_lands_on_login(client):
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert "ログイン" in response.content.decode()


def test_login_page_speaks_english_to_an_english_browser(client):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Log in" in response.content.decode()
