"""axe-core in Chromium: every page, as each persona who may open it, has no serious or critical
violation of the WCAG 2 A/AA rules.

The pages are the rows of the access matrices (tests/test_access.py PAGES for the workspace
pages a persona's permissions open with a 200, tests/test_access_public.py PUBLIC for the rest)
on the same objects, so a page added there is checked here too. axe-core is the copy bundled
by the `axe-playwright-python` package (no download at test time); it is evaluated in the page
through Playwright, which the Content-Security-Policy does not stop.
"""

from __future__ import annotations

import os
import re
import time

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import expect

from tests.automation.factories import CalendarFactory, FormFactory
from tests.factories import UserFactory
from tests.test_access import PAGES, _codes, _granted, _invitation, _objects, _payment_link, _url
from tests.test_access_public import PUBLIC

# Pages per sweep: every AXE_EVERY-th (3 by default; .ci/run sets 1, every page).
AXE_EVERY = max(1, int(os.environ.get("AXE_EVERY", "3")))
# The success criteria of WCAG 2.0 and 2.1, levels A and AA.
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}
# Not pages: a download (the workflow's JSON), and the e-mail's own HTML document, framed by
# the link's preview page (e-mail HTML is laid out with tables for mail clients).
NOT_PAGES = {"workflow_export", "payment_link_email_html"}
# Forms sent empty (the browser's own checks off): each comes back with its errors shown, but
# the refund, whose amount starts at the whole payment: it asks to confirm.
ERRORS = ".errorlist, .form-errors, [role=alert]"
FORMS = {
    name: ERRORS
    for name in [
        "contact_create", "member_add", "role_create", "org_unit_create", "stripe_customer_add",
        "form_create", "calendar_create", "workflow_create", "workflow_import", "invoice_create",
        "work_item_pay",
    ]
} | {"payment_refund": "button:has-text('Yes, refund')"}  # fmt: skip
# Sent by the page's script (the card is checked by Stripe.js first): no new page.
SCRIPTED = {"work_item_pay"}
# Sends the page's main form as it is, past `required` and friends (the server's errors are the
# ones to look at); Playwright's evaluate is not stopped by the Content-Security-Policy.
SEND_EMPTY = """() => {
  const form = [...document.querySelectorAll('main form[method=post i]')]
    .sort((a, b) => b.elements.length - a.elements.length)[0];
  if (!form) return false;
  form.noValidate = true;
  const submits = form.querySelectorAll('[type=submit]');
  form.requestSubmit([...submits].find((button) => !button.name) || submits[0]);
  return true;
}"""


def axe_violations(page) -> list[str]:
    """The serious and critical WCAG A/AA violations of the page as it is now, one line each."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT)
    results = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations'], iframes: false})",
        WCAG,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        + f" ({_why(v['nodes'][0])})"
        for v in results["violations"]
        if v["impact"] in BLOCKING
    ]


def _why(node: dict) -> str:
    """What axe says of the first element, e.g. the two colours and the ratio they reach."""
    checks = node.get("any", []) + node.get("all", []) + node.get("none", [])
    return "; ".join(check["message"] for check in checks if check.get("message"))


def _sweep(page, base: str, paths: dict[str, str]) -> dict[str, list[str]]:
    found = {}
    for name, path in paths.items():
        response = page.goto(base + path)
        assert response is not None and response.ok, f"{name}: {path} answered {response}"
        if problems := axe_violations(page):
            found[name] = problems
    return found


def _workspace_paths(workspace, user, objects, only=None) -> dict[str, str]:
    granted = _granted(workspace, user)
    return {
        name: _url(name, needs, objects)
        for name, (perm, needs, get_status, _) in sorted(PAGES.items())
        if get_status == 200
        and name not in NOT_PAGES
        and set(_codes(perm)) <= granted
        and (only is None or name in only)
    }


def _sampled(paths: dict[str, str], offset: int = 0) -> dict[str, str]:
    """Every page in CI; every AXE_EVERY-th one (3 by default) locally, from `offset`, so the
    personas' sweeps look at different pages (each takes about a second in Chromium)."""
    names = sorted(paths)
    return {name: paths[name] for name in names[offset % AXE_EVERY :: AXE_EVERY]}


@pytest.fixture
def objects(workspace, org_units, staff, owner, payer, sandbox, settings):
    settings.STRIPE_CONNECT_CLIENT_ID = "ca_access_matrix"
    return _objects(workspace, org_units, staff, sandbox)


def _check(page, live_server, login, user, paths) -> None:
    login(page, user)
    started = time.monotonic()
    found = _sweep(page, live_server.url, paths)
    print(f"{user.username}: {len(paths)} pages in {time.monotonic() - started:.1f} s")
    report = "\n".join(f"{name}: {line}" for name, lines in found.items() for line in lines)
    assert not found, f"serious or critical axe violations:\n{report}"


@pytest.mark.parametrize("persona", ["owner", "staff", "viewer", "payer"])
def test_every_workspace_page_of_each_persona_passes_axe(
    persona, request, live_server, page, login, workspace, objects
):
    """Every page the persona may open, as it first shows (the owner's whole sweep takes about
    a minute: `_sampled`)."""
    user = request.getfixturevalue(persona)
    paths = _workspace_paths(workspace, user, objects)
    assert len(paths) >= {"owner": 70, "staff": 40, "viewer": 3, "payer": 3}[persona]
    offset = ["owner", "staff", "viewer", "payer"].index(persona)
    _check(page, live_server, login, user, _sampled(paths, offset))


def test_forms_showing_their_errors_pass_axe(live_server, page, login, workspace, owner, objects):
    login(page, owner)
    found = {}
    for name, path in _sampled(_workspace_paths(workspace, owner, objects, set(FORMS))).items():
        page.goto(live_server.url + path)
        if name in SCRIPTED:
            assert page.evaluate(SEND_EMPTY), f"{name}: no form at {path}"
        else:
            with page.expect_navigation():
                assert page.evaluate(SEND_EMPTY), f"{name}: no form at {path}"
        expect(page.locator(FORMS[name]).first).to_be_visible()
        if problems := axe_violations(page):
            found[name] = problems
    report = "\n".join(f"{name}: {line}" for name, lines in found.items() for line in lines)
    assert not found, f"serious or critical axe violations:\n{report}"


def test_results_swapped_in_by_htmx_pass_axe(live_server, page, login, workspace, owner, objects):
    """Search, filters and their errors, as htmx leaves the page after swapping the results."""
    login(page, owner)
    found = {}
    page.goto(f"{live_server.url}/w/{workspace.slug}/contacts/")
    page.get_by_label("Search contacts").fill("nobody-at-all")
    expect(page.get_by_text("No contact matches")).to_be_visible()
    found["contacts, no match"] = axe_violations(page)
    page.goto(live_server.url + _url("run_list", "workflow", objects))
    page.get_by_label("Status").select_option("failed")
    expect(page.get_by_text("Filtered")).to_be_visible()
    found["runs, filtered"] = axe_violations(page)
    page.get_by_label("From").fill("2026-03-10")
    page.get_by_label("To", exact=True).fill("2026-03-01")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_role("alert")).to_contain_text("Correct the filters")
    found["runs, filters refused"] = axe_violations(page)
    page.goto(f"{live_server.url}/w/{workspace.slug}/appointments/")
    page.get_by_label("Status").select_option("cancelled")
    expect(page).to_have_url(re.compile("status=cancelled"))
    found["appointments, filtered"] = axe_violations(page)
    assert {name: lines for name, lines in found.items() if lines} == {}


def test_axe_finds_an_unlabelled_field_and_poor_contrast(page):
    """The check itself: a page with two serious faults is reported with both."""
    page.set_content(
        '<html lang="en"><title>Faults</title><main><h1>Faults</h1>'
        '<input type="text"><p style="color:#aaa;background:#fff">Grey on white</p></main></html>'
    )
    found = " ".join(axe_violations(page))
    assert "label (critical)" in found and "color-contrast (serious)" in found


def test_every_public_page_passes_axe(
    live_server, page, login, workspace, connection, owner, viewer
):
    forgetful = UserFactory(username="forgetful@acme.test")
    arguments = {
        "": {},
        "form": {"slug": FormFactory(workspace=workspace).slug},
        "calendar": {"slug": CalendarFactory(workspace=workspace).slug},
        "link": {"token": _payment_link(workspace, connection).token},
        "invitation": {"token": _invitation(workspace).token},
        "unknown slug": {"slug": "no-such-page"},
        "bad reset link": {
            "uidb64": urlsafe_base64_encode(force_bytes(forgetful.pk)),
            "token": default_token_generator.make_token(forgetful) + "x",
        },
    }
    anonymous, logged_in = {}, {}
    for (name, argument), (anon_get, _, user_get, _) in PUBLIC.items():
        if argument not in arguments or name == "healthz":
            continue
        path = reverse(name, kwargs=arguments[argument])
        if anon_get == 200:
            anonymous[f"{name} ({argument})"] = path
        elif user_get == 200:
            logged_in[f"{name} ({argument})"] = path
    found = _sweep(page, live_server.url, anonymous)
    # The error pages: answered with their status, not `ok`, so checked one by one.
    for path in ("/f/no-such-page/", f"/w/{workspace.slug}/no-such-page/"):
        page.goto(live_server.url + path)
        if problems := axe_violations(page):
            found[path] = problems
    login(page, owner)
    found |= _sweep(page, live_server.url, logged_in)
    # The refusal a member without the permission gets (403).
    page.context.clear_cookies()
    login(page, viewer)
    assert page.goto(f"{live_server.url}/w/{workspace.slug}/members/").status == 403
    if problems := axe_violations(page):
        found["403"] = problems
    report = "\n".join(f"{name}: {line}" for name, lines in found.items() for line in lines)
    assert len(anonymous) >= 8 and len(logged_in) >= 2
    assert not found, f"serious or critical axe violations:\n{report}"
