"""The notes app with a read-only token (issue 18): it shows the space's notes, refuses
edits with a clear message, and loses none of this device's own notes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from apppage import READY, call, open_app, serve_relay
from test_devices import local_changes, notes, wait_rows, wait_sync

from yloft_relay.auth import load_key
from yloft_relay.tokens import issue, space_claim


@pytest.fixture(scope="module")
def signed_relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A relay serving the app that takes ``demo=demo`` and tokens signed with key ``k1``."""
    tmp = tmp_path_factory.mktemp("relay")
    secret = tmp / "k1.secret"
    secret.write_text("a-secret-only-the-test-knows-" + "x" * 20)
    with serve_relay(tmp / "relay.db", "--tokens", "demo=demo", "--jwt-key", f"k1={secret}") as url:
        yield url, secret


def test_a_read_only_token_shows_notes_refuses_edits_and_keeps_local_data(
    device: Any, signed_relay: tuple[str, Path]
) -> None:
    base, secret = signed_relay
    token = issue(load_key(f"k1={secret}", private=True), "viewer",
                  {"demo": space_claim(write=False)})  # fmt: skip
    owner = open_app(device(), base + "?space=demo&token=demo", "owner")
    shared = call(owner, "create_note", "Shared plan", "written by the owner")
    wait_sync(owner, "online", 0)

    viewer_ctx = device()
    viewer = open_app(viewer_ctx, base, "viewer")  # first without a relay: local notes
    mine = call(viewer, "create_note", "My own note", "only on this device")
    viewer.goto(base + f"?space=demo&token={token}")
    viewer.wait_for_selector(READY, state="attached")
    wait_rows(viewer, {shared, mine})
    viewer.wait_for_selector("#status[data-access=read-only]")
    assert "read-only" in (viewer.text_content("#status") or "")
    warning = viewer.locator("#warning")
    assert warning.is_visible() and "Read-only" in (warning.text_content() or "")

    # Trying to edit: the note opens, but neither clicks nor keystrokes change it.
    viewer.locator("#notes li", has_text="Shared plan").click()
    viewer.wait_for_selector("#editor:not([hidden])")
    viewer.get_by_label("Title").click(force=True)
    viewer.keyboard.type(" vandalised")
    viewer.get_by_label("Body").click(force=True)
    viewer.keyboard.type("scribble")
    assert viewer.get_by_role("button", name="New note").is_disabled()
    assert viewer.locator("#notes li", has_text="Shared plan").get_by_label("Done").is_disabled()
    by_id = {r["id"]: r for r in notes(viewer)}
    assert by_id[shared]["title"] == "Shared plan"
    assert by_id[shared]["body"] == "written by the owner"
    # This device's own note is all there, waiting in the outbox (never sent).
    assert by_id[mine]["title"] == "My own note" and by_id[mine]["body"] == "only on this device"
    wait_sync(viewer, "online", local_changes(viewer))
    assert viewer.evaluate("() => window.db.request('integrity_check', [])") == "ok"
    # The owner never sees anything of the viewer's.
    call(owner, "create_note", "Later", "after the viewer came")
    wait_sync(owner, "online", 0)
    owner_ids = {r["id"] for r in notes(owner)}
    assert mine not in owner_ids
    assert {r["title"] for r in notes(owner) if r["id"] == shared} == {"Shared plan"}


def test_get_token_renews_an_expiring_token_and_sync_resumes(
    device: Any, signed_relay: tuple[str, Path]
) -> None:
    """connect({relay: {getToken}}): the notes app's ?tokenUrl= asks an endpoint (here a
    Playwright route) for tokens. The first lasts 6 s; renewing it fails once, so the relay
    closes the link at expiry (4401); the next request succeeds and sync resumes."""
    base, secret = signed_relay
    key = load_key(f"k1={secret}", private=True)
    calls: list[int] = []

    def token_endpoint(route: Any) -> None:
        calls.append(len(calls) + 1)
        if len(calls) == 2:
            route.fulfill(status=503, body="try again")
            return
        # 6 s: the status listener below must be in place before it expires, on a slow machine.
        lifetime = 6 if len(calls) == 1 else 600
        token = issue(key, "writer", {"demo": space_claim()}, expires_in=lifetime)
        route.fulfill(status=200, body=token, headers={"Cache-Control": "no-store"})

    owner = open_app(device(), base + "?space=demo&token=demo", "owner")
    ctx = device()
    ctx.route(lambda url: urlsplit(url).path == "/test-token", token_endpoint)
    page = open_app(ctx, base + "?space=demo&tokenUrl=/test-token", "renewing")
    page.evaluate(
        "() => { window.seenAuth = []; window.db.addEventListener("
        "'status', (e) => window.seenAuth.push(e.detail.relay?.auth)); }"
    )
    wait_sync(page, "online")
    first = call(page, "create_note", "Before expiry", "from the renewing device")
    wait_rows(owner, {first})
    page.wait_for_function("() => window.seenAuth.includes('expired')", timeout=30_000)
    wait_sync(page, "online")
    assert len(calls) >= 3
    later = call(owner, "create_note", "After renewal", "from the owner")
    wait_rows(page, {first, later})
    mine = call(page, "create_note", "Also after renewal", "nothing lost")
    wait_rows(owner, {first, later, mine})
    wait_sync(page, "online", 0)
    assert page.evaluate("() => window.db.status.relay.auth") == "ok"
    assert {r["id"] for r in notes(page)} >= {first, later, mine}
