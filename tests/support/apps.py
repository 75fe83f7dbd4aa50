"""A function's own HTTP stack in-process, as functions-framework serves it."""

from functions_framework import create_app

from tests.support.processes import ROOT


def function_client(name: str):
    return create_app("handle", str(ROOT / "functions" / name / "main.py")).test_client()


def signed_in_web(secrets, role: str = "read", next_page: str = "/programs"):
    """The explorer's client with a session: signed in (the sign-in form's CSRF token and a new token of `role`, made
    in `secrets`, the runtime's secret store), as a person signs in."""
    import re

    from affiliate_matrix.auth import create_token

    web = function_client("web")
    csrf = re.search(r'name="csrf" value="([^"]+)"', web.get("/signin").text).group(1)
    signed = web.post("/signin", data={"token": create_token(secrets, role), "csrf": csrf, "next": next_page})
    assert signed.status_code == 303 and signed.headers["Location"] == next_page, signed.status_code
    return web
