"""The served page loads Pyodide in a worker, installs yloft, and shows what it runs."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

import yloft


def test_page_shows_versions_after_full_progress(page: Page, base_url: str) -> None:
    seen: list[tuple[float, float]] = []
    page.expose_function("recordProgress", lambda v, m: seen.append((v, m)))
    # Sample the bar from the page while it loads, the way a person watches it.
    page.add_init_script(
        """
        const tick = () => {
          const bar = document.getElementById("progress");
          if (bar) window.recordProgress(bar.value, bar.max);
          if (document.documentElement.dataset.yloft === "loading") setTimeout(tick, 20);
        };
        document.addEventListener("DOMContentLoaded", tick);
        """
    )
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base_url)
    page.wait_for_selector("html[data-yloft=ready]", timeout=120_000)

    assert errors == []
    assert page.text_content("#yloft-version") == yloft.__version__
    shown_sqlite = page.text_content("#sqlite-version") or ""
    assert shown_sqlite.startswith("3.") and shown_sqlite.count(".") == 2
    assert page.text_content("#python-version") == "3.14.2"
    bar: dict[str, Any] = page.eval_on_selector("#progress", "b => ({v: b.value, m: b.max})")
    # The bar counts real bytes: megabytes of runtime, ending exactly at the total.
    assert bar["m"] > 5_000_000
    assert bar["v"] == bar["m"]
    # ... and it moved through intermediate values on the way there.
    assert any(0 < v < m for v, m in seen), seen[:20]
    assert page.text_content("#progress-text") is not None
