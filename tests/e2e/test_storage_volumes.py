"""The volume suite (bench/web/volume-suite.js) in Chromium: every storage kind passes it,
and each of its checks fails on a volume broken the way it guards against
(bench/web/volume-bugs.js). The storage lab's worker runs it (build.lab_root())."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

import build


@pytest.fixture(scope="module")
def lab(browser: Browser) -> Iterator[Page]:
    """One storage-lab page on a fresh profile (each suite run uses new database names)."""
    root = build.lab_root()
    server = build.make_server(0, root)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ctx = browser.new_context(service_workers="block")
    try:
        page = ctx.new_page()
        page.set_default_timeout(120_000)
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/bench/web/storage-lab.html")
        page.wait_for_selector("html[data-lab=ready]")
        yield page
    finally:
        ctx.close()
        server.shutdown()
        server.server_close()
        shutil.rmtree(root, ignore_errors=True)


def suite(page: Page, kind: str, bug: str | None = None) -> dict[str, Any]:
    return page.evaluate(  # type: ignore[no-any-return]
        "([kind, bug]) => lab.call('volumeSuite', {kind, bug})", [kind, bug]
    )


@pytest.mark.parametrize("kind", ["opfs", "idb", "memory"])
def test_every_storage_kind_passes_the_volume_suite(lab: Page, kind: str) -> None:
    report = suite(lab, kind)
    assert report["failed"] == []
    assert report["passed"] == lab.evaluate("lab.call('volumeChecks')")


BROKEN = [
    ("idb", "get-creates-missing-files", "empty_at_first"),
    ("idb", "write-drops-last-byte", "write_then_read"),
    ("idb", "write-appends", "overwrite_in_place"),
    ("idb", "gap-not-zeroed", "sparse_write_reads_zeros"),
    ("idb", "read-ignores-end", "read_past_end"),
    ("idb", "shrink-keeps-bytes", "truncate"),
    ("idb", "remove-is-ignored", "unlink"),
    ("idb", "suffixes-share-a-file", "files_are_independent"),
    ("idb", "sync-stores-nothing", "flushed_data_survives_reopen"),
    ("idb", "sync-forgets-removals", "deletes_and_truncations_survive_reopen"),
    ("opfs", "opfs-remove-keeps-bytes", "deletes_and_truncations_survive_reopen"),
]


@pytest.mark.parametrize(("kind", "bug", "check"), BROKEN, ids=[b for _k, b, _c in BROKEN])
def test_the_suite_reports_a_broken_volume(lab: Page, kind: str, bug: str, check: str) -> None:
    failed = {f["name"]: f["message"] for f in suite(lab, kind, bug)["failed"]}
    assert check in failed, failed


def test_every_check_is_shown_to_fail_on_some_broken_volume(lab: Page) -> None:
    assert {check for _k, _b, check in BROKEN} == set(lab.evaluate("lab.call('volumeChecks')"))


def test_a_volume_is_whole_again_after_a_broken_run(lab: Page) -> None:
    """The bugs are undone after their run: the same kind passes again."""
    suite(lab, "idb", "sync-stores-nothing")
    assert suite(lab, "idb")["failed"] == []
