"""Every page of the dashboard, as the demo owner, at 375 px and 1280 px: axe-core (installed by
scripts/vendor from the npm registry, as locked) finds no serious or critical violation, nothing
is wider than a phone's screen at 375 px, and a screenshot of each goes to build/screenshots/.

The pages are the app's own GET routes (``app.url_map``), not a list kept by hand: a page added
on any branch is walked without touching this file. A route that needs an id is visited with
the first link to it found on the pages already walked (the demo day fills them); one that no
page links to is reported as not walked."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.browser.support import WIDTHS, axe_violations, describe, needs_chromium, shot, sign_in

pytestmark = needs_chromium

# the innermost elements reaching past the viewport's right edge, to say what to fix
WIDEST = """(width) => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > width + 1 && ![...e.children].some(
      c => c.getBoundingClientRect().right > width + 1))
  .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.name ? `[name=${e.name}]` : '') +
      (e.className ? '.' + e.className : '') + ' ' + Math.round(e.getBoundingClientRect().right))"""
# the JSON API, the hashed static files, and HTML fragments that a page's script inserts into that
# page (the overview's calls in progress: checked as part of the overview page)
NOT_PAGES = ("/api", "/assets", "/overview/live")
ROOT = "/app"


def _app_map():
    from shared.web.app import create_app

    app = create_app(lambda: None)  # only its routes are read: no ports needed
    rules = [r for r in app.url_map.iter_rules()
             if "GET" in (r.methods or ()) and not r.rule.startswith(NOT_PAGES)]
    return app.url_map.bind("localhost", script_name=ROOT), rules


def _links(page) -> list[str]:
    return page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")


def test_every_page_is_accessible_and_fits_a_phone(browser, demo_stack):
    adapter, rules = _app_map()
    todo = [(r.endpoint, f"{ROOT}{r.rule}") for r in rules if not r.arguments]
    needs_id = {r.endpoint for r in rules if r.arguments}
    context = browser.new_context(bypass_csp=True)  # axe is injected as a script; the app's CSP refuses it
    page = context.new_page()
    sign_in(page, demo_stack.url, demo_stack.email, demo_stack.password)
    problems: list[str] = []
    walked: set[str] = set()
    while todo:
        endpoint, path = todo.pop(0)
        if endpoint in walked:
            continue
        walked.add(endpoint)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            response = page.goto(demo_stack.url + path)
            assert response is not None and response.status < 500, f"{path}: {response and response.status}"
            found = axe_violations(page)
            if found:
                problems.append(f"{path} at {width} px:\n{describe(found)}")
            overflow = page.evaluate("() => document.documentElement.scrollWidth")
            if overflow > width + 1:
                problems.append(f"{path} at {width} px: the page is {overflow} px wide; too wide: "
                                f"{page.evaluate(WIDEST, width)}")
            shot(page, f"page-{endpoint.replace('.', '-')}-{width}")
        for href in _links(page):
            target = urlsplit(href)
            if target.netloc or not target.path.startswith(ROOT + "/"):
                continue
            try:
                linked, _ = adapter.match(target.path.removeprefix(ROOT) or "/", method="GET")
            except Exception:  # noqa: BLE001 - not a page of the app (the mail viewer, a download)
                continue
            if linked in needs_id and linked not in walked:
                todo.append((linked, target.path))
    context.close()
    assert walked >= {"home.index", "settings.index", "team.index"}
    unreached = sorted(needs_id - walked)
    print(f"walked {len(walked)} pages; with an id but linked from no page: {unreached}")
    assert not problems, "accessibility or layout problems:\n" + "\n".join(problems)


def test_the_axe_check_finds_what_it_is_for(browser):
    """The walk above passing means something: the same check on a page with an unlabelled field
    and an image without alt text reports them."""
    page = browser.new_context(bypass_csp=True).new_page()
    page.set_content('<!doctype html><html lang="en"><head><title>t</title></head><body><main>'
                     '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><input type="text"></main></body></html>')
    assert {v["id"] for v in axe_violations(page)} >= {"image-alt", "label"}
    page.context.close()
