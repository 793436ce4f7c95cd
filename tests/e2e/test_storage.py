"""Durable storage for Pyodide's sqlite3 (web/worker/storage/storage.js) in real Chromium.

The tests drive bench/web/storage-lab.html, whose worker loads bare Pyodide, mounts storage and
runs SQLite from Python. Profiles are on disk (``launch_persistent_context``): closing a
normal Playwright context would discard its OPFS, and we want what a user's disk keeps.
Committed rows are reported to the test only after the commit hook ran and
``afterCommit()`` resolved, so every reported row must survive whatever happens next.
"""

from __future__ import annotations

import base64
import contextlib
import random
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page
from playwright.sync_api import Error as PlaywrightError

import build

CHOSEN = {"journalMode": "wal", "lockingMode": "exclusive", "pageSize": 4096}
NBYTES = 100


def payload(i: int, nbytes: int = NBYTES) -> bytes:
    """The blob the lab stores in row ``i`` (same formula as storage-lab-worker.js)."""
    unit = f"{i}:".encode()
    return (unit * (nbytes // len(unit) + 1))[:nbytes]


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def lab_url() -> Iterator[str]:
    """The lab page, web/ modules and the Pyodide runtime, served from a private copy.

    A private copy keeps these tests independent of a rebuild meanwhile.
    """
    root = build.lab_root()
    server = build.make_server(0, root)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/bench/web/storage-lab.html"
    server.shutdown()
    server.server_close()
    shutil.rmtree(root, ignore_errors=True)


Launcher = Callable[[], BrowserContext]


@pytest.fixture
def launch(browser: Browser, tmp_path: Path) -> Iterator[Launcher]:
    """Start Chromium on one on-disk profile; call again to reopen the same profile."""
    opened: list[BrowserContext] = []
    executable = shutil.which("chromium")
    assert executable is not None

    def start() -> BrowserContext:
        ctx = browser.browser_type.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=executable, args=build.CHROMIUM_FLAGS
        )
        opened.append(ctx)
        return ctx

    yield start
    for ctx in opened:
        with contextlib.suppress(PlaywrightError):  # some were closed by the test
            ctx.close()


class Lab:
    """One storage-lab page; ``committed`` holds rows reported durable by its worker."""

    def __init__(self, ctx: BrowserContext, url: str, committed: list[int] | None = None):
        self.page: Page = ctx.new_page()
        self.page.set_default_timeout(120_000)
        self.committed = committed if committed is not None else []
        self.page.expose_function("labCommitted", lambda i: self.committed.append(i))
        self.page.goto(url)
        self.page.wait_for_selector("html[data-lab=ready]")

    def call(self, method: str, **arg: Any) -> Any:
        return self.page.evaluate("([m, a]) => lab.call(m, a)", [method, arg])

    def error_of(self, method: str, **arg: Any) -> dict[str, str]:
        """Call a lab method that must fail; return the rejection's name and message."""
        return self.page.evaluate(  # type: ignore[no-any-return]
            """([m, a]) => lab.call(m, a).then(
                 v => ({name: "NoError", message: JSON.stringify(v)}),
                 e => ({name: e.name, message: e.message}))""",
            [method, arg],
        )

    def open(self, force: str | None, db: dict[str, Any] = CHOSEN, **mount: Any) -> str:
        info = self.call("mount", force=force, **mount)
        self.call("openDb", **db)
        return str(info["kind"])

    def start_loop(self, start: int, n: int) -> None:
        self.page.evaluate(
            "([s, n]) => { window.loop = lab.call('commitLoop', {start: s, n}); }", [start, n]
        )

    def wait_committed(self, count: int) -> None:
        while len(self.committed) < count:
            self.page.wait_for_timeout(5)

    def check(self) -> dict[str, Any]:
        return self.call("check")  # type: ignore[no-any-return]


def assert_intact(result: dict[str, Any], committed: list[int]) -> None:
    """Every committed row is there with its exact payload; the database is sound."""
    assert result["integrity"] == "ok"
    assert result["bad"] == []
    missing = sorted(set(committed) - set(result["ids"]))
    assert missing == []


# ------------------------------------------------------------- persistence


@pytest.mark.parametrize("force", ["opfs", "idb"])
def test_many_commits_survive_reload(force: str, launch: Launcher, lab_url: str) -> None:
    ctx = launch()
    lab = Lab(ctx, lab_url)
    assert lab.open(force) == force
    lab.call("commitLoop", start=0, n=400)
    lab.wait_committed(400)  # each is reported through an exposed function, not awaited
    assert len(lab.committed) == 400
    lab.page.close()

    lab = Lab(ctx, lab_url)
    assert lab.open(force) == force
    result = lab.check()
    assert result["journal_mode"] == "wal"
    assert result["ids"] == list(range(400))
    assert_intact(result, list(range(400)))


def test_opfs_commits_write_pages_not_whole_files(launch: Launcher, lab_url: str) -> None:
    """A one-row commit on a 4 MB database writes a few pages, never the whole file."""
    lab = Lab(launch(), lab_url)
    lab.open("opfs")
    lab.call(
        "py",
        code="db = labs['/yloft']\n"
        "db.con.execute('BEGIN')\n"
        "db.con.executemany('INSERT INTO t(id, k, v) VALUES (?, ?, ?)',"
        " ((-1 - i, i, bytes(100)) for i in range(20000)))\n"
        "db.con.execute('COMMIT')\n"
        "db.con.execute('PRAGMA wal_checkpoint(TRUNCATE)')\n"
        "json.dumps(os.path.getsize(db.path))",
    )
    size = lab.call("py", code="json.dumps(os.path.getsize(labs['/yloft'].path))")
    assert size > 2_000_000
    before = lab.call("stats")
    lab.call("commitLoop", start=0, n=100)
    after = lab.call("stats")
    per_commit = (after["bytesWritten"] - before["bytesWritten"]) / 100
    assert per_commit < 64 * 1024, per_commit
    assert (after["flushes"] - before["flushes"]) >= 100  # at least one flush per commit


# ------------------------------------------------------------- durability


def crash(lab: Lab) -> None:
    """Kill the renderer (page and its worker) the way a crashing tab dies."""
    with pytest.raises(PlaywrightError):
        lab.page.goto("chrome://crash", timeout=10_000)


@pytest.mark.parametrize(
    ("force", "journal_mode", "rounds"),
    [
        ("opfs", "wal", 6),
        ("opfs", "truncate", 2),
        ("opfs", "delete", 2),
        ("opfs", "persist", 2),
        ("idb", "wal", 4),
    ],
)
def test_crashed_tab_keeps_every_committed_row(
    force: str, journal_mode: str, rounds: int, launch: Launcher, lab_url: str
) -> None:
    rng = random.Random(f"crash-{force}-{journal_mode}")
    db = {**CHOSEN, "journalMode": journal_mode}
    ctx = launch()
    committed: list[int] = []
    next_id = 0
    for _ in range(rounds):
        lab = Lab(ctx, lab_url, committed)
        assert lab.open(force, db) == force
        result = lab.check()
        assert_intact(result, committed)
        next_id = max(result["ids"], default=-1) + 1
        lab.start_loop(next_id, 100_000)
        lab.wait_committed(len(committed) + rng.randint(1, 80))
        crash(lab)
    lab = Lab(ctx, lab_url, committed)
    lab.open(force, db)
    assert_intact(lab.check(), committed)
    assert len(committed) >= rounds


@pytest.mark.parametrize("force", ["opfs", "idb"])
def test_browser_closed_mid_write_keeps_every_committed_row(
    force: str, launch: Launcher, lab_url: str
) -> None:
    rng = random.Random(f"close-{force}")
    committed: list[int] = []
    for _ in range(3):
        ctx = launch()
        lab = Lab(ctx, lab_url, committed)
        lab.open(force)
        result = lab.check()
        assert_intact(result, committed)
        lab.start_loop(max(result["ids"], default=-1) + 1, 100_000)
        lab.wait_committed(len(committed) + rng.randint(1, 80))
        ctx.close()
    lab = Lab(launch(), lab_url, committed)
    lab.open(force)
    assert_intact(lab.check(), committed)


# --------------------------------------------------- power loss, modelled


def crash_images(
    events: list[list[Any]], rng: random.Random
) -> Iterator[tuple[int, list[int], dict[str, bytes]]]:
    """Files as a power cut before each event may leave them on disk.

    Flushed bytes are on disk; of the writes and truncates since a file's last flush, any
    subset may have reached the disk (taken in order here), the rest is lost. Yields
    (cut point, rows whose commit had been reported durable, file contents).
    """
    current: dict[str, bytearray] = {}
    durable: dict[str, bytes] = {}
    pending: dict[str, list[list[Any]]] = {}
    committed: list[int] = []
    for crash_at in range(len(events) + 1):
        image = {}
        for name in set(current) | set(durable):
            data = bytearray(durable.get(name, b""))
            for event in pending.get(name, []):
                if rng.random() < 0.5:
                    apply_op(data, event)
            image[name] = bytes(data)
        yield crash_at, list(committed), image
        if crash_at == len(events):
            return
        event = events[crash_at]
        kind, name = event[0], event[1]
        if kind in ("w", "t"):
            apply_op(current.setdefault(name, bytearray()), event)
            pending.setdefault(name, []).append(event)
        elif kind == "f":
            durable[name] = bytes(current.get(name, b""))
            pending[name] = []
        elif kind == "c":
            committed.append(name)


def apply_op(data: bytearray, event: list[Any]) -> None:
    if event[0] == "t":
        del data[event[2] :]
        data.extend(bytes(max(0, event[2] - len(data))))
    else:
        position, chunk = event[2], base64.b64decode(event[3])
        if len(data) < position + len(chunk):
            data.extend(bytes(position + len(chunk) - len(data)))
        data[position : position + len(chunk)] = chunk


def open_image(image: dict[str, bytes], folder: Path) -> sqlite3.Connection:
    """Write a crash image (empty files count as absent, as on the OPFS mount) and open it."""
    for name, data in image.items():
        if data:
            (folder / name).write_bytes(data)
    return sqlite3.connect(folder / "lab.db")


@pytest.mark.parametrize(
    ("journal_mode", "locking_mode", "hook_every"),
    [
        ("wal", "exclusive", 1),
        ("wal", "exclusive", 3),
        ("wal", "normal", 1),
        ("truncate", "exclusive", 1),
        ("persist", "exclusive", 1),
        ("persist", "exclusive", 3),
        ("delete", "exclusive", 1),
        ("delete", "normal", 1),
    ],
)
def test_flush_order_survives_modelled_power_loss(
    journal_mode: str,
    locking_mode: str,
    hook_every: int,
    launch: Launcher,
    lab_url: str,
    tmp_path: Path,
) -> None:
    """Replay the real I/O of SQLite on the OPFS volume and cut power at random points.

    A renderer crash keeps bytes the OS already has; a power cut keeps only flushed ones.
    This replays every write/truncate/flush the volume did (recorded in Chromium) and
    checks, at a cut before every event with random survivors among unflushed writes,
    that the database opens with integrity ok and holds every row whose commit hook had
    returned (after afterCommit() resolved). With ``hook_every`` 3, two commits in three
    skip the hook, so only the flush order inside the file system protects them.
    """
    lab = Lab(launch(), lab_url)
    db = {"journalMode": journal_mode, "lockingMode": locking_mode, "pageSize": 4096}
    lab.open("opfs", db, trace=True)
    # Small cache so that pages spill and a checkpoint or two happens within the run.
    lab.call("py", code="labs['/yloft'].con.execute('PRAGMA cache_size=8'); json.dumps(1)")
    lab.call("py", code="labs['/yloft'].con.execute('PRAGMA wal_autocheckpoint=40'); 'true'")
    events: list[list[Any]] = lab.call(
        "traceCommits", start=0, n=120, nbytes=NBYTES * 30, hookEvery=hook_every
    )
    assert sum(e[0] == "f" for e in events) >= 120 // hook_every
    assert sum(e[0] == "c" for e in events) == 120 // hook_every
    rng = random.Random(f"power-{journal_mode}-{locking_mode}")
    for crash_at, committed, image in crash_images(events, rng):
        folder = tmp_path / f"cut{crash_at}"
        folder.mkdir()
        con = open_image(image, folder)
        try:
            integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
            assert integrity == "ok", (crash_at, integrity)
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
            rows = dict(con.execute("SELECT id, v FROM t")) if "t" in tables else {}
        finally:
            con.close()
        assert sorted(set(committed) - set(rows)) == [], crash_at
        assert all(v == payload(i, NBYTES * 30) for i, v in rows.items()), crash_at
        shutil.rmtree(folder)


# ------------------------------------------------------- errors and status


def test_second_opfs_handle_fails_clearly_not_hangs(launch: Launcher, lab_url: str) -> None:
    ctx = launch()
    first = Lab(ctx, lab_url)
    first.open("opfs")
    first.call("commitLoop", start=0, n=3)

    second = Lab(ctx, lab_url)
    err = second.error_of("mount", force="opfs", lockTimeoutMs=300)
    assert err["name"] == "StorageLockedError"
    assert "another tab" in err["message"]
    assert "lab.db" in err["message"]

    # Once the first tab lets go, the second one opens the same data.
    first.call("unmount")
    assert second.open("opfs") == "opfs"
    assert_intact(second.check(), [0, 1, 2])


def test_second_idb_mount_fails_clearly(launch: Launcher, lab_url: str) -> None:
    ctx = launch()
    first = Lab(ctx, lab_url)
    first.open("idb")
    second = Lab(ctx, lab_url)
    err = second.error_of("mount", force="idb")
    assert err["name"] == "StorageLockedError"
    assert "another tab" in err["message"]
    first.call("unmount")
    assert second.open("idb") == "idb"


def test_quota_error_fails_the_transaction_and_keeps_data(launch: Launcher, lab_url: str) -> None:
    """With the origin's quota lowered (CDP), writes past it fail as ENOSPC."""
    ctx = launch()
    lab = Lab(ctx, lab_url)
    lab.open("opfs", extraFiles=["blob.bin"])
    lab.call("commitLoop", start=0, n=5)
    origin = lab_url.split("/bench/web/")[0]
    cdp = ctx.new_cdp_session(lab.page)
    cdp.send("Storage.overrideQuotaForOrigin", {"origin": origin, "quotaSize": 3_000_000})

    saved = list(range(5))
    failure: dict[str, Any] = {}
    for i in range(100, 200):
        result = lab.call("tryInsert", i=i, nbytes=200_000)
        if not result["ok"]:
            failure = result
            break
        saved.append(i)
    # SQLite turns the file system's ENOSPC into SQLITE_FULL; the COMMIT failed.
    assert failure["type"] == "OperationalError"
    assert "full" in failure["message"]
    failed_id = i
    # A plain file write from Python gets the OSError itself.
    raw = lab.call(
        "py",
        code="import errno\n"
        "try:\n"
        "    with open('/yloft/blob.bin', 'wb') as f: f.write(b'x' * 5_000_000)\n"
        "    r = None\n"
        "except OSError as e:\n"
        "    r = [e.errno == errno.ENOSPC, str(e)]\n"
        "json.dumps(r)",
    )
    assert raw is not None and raw[0] is True, raw

    def ids_and_integrity(lab: Lab) -> tuple[list[int], str]:
        got = lab.call(
            "py",
            code="json.dumps([r[0] for r in labs['/yloft'].con.execute("
            "'SELECT id FROM t ORDER BY id')] + [labs['/yloft'].con.execute("
            "'PRAGMA integrity_check').fetchone()[0]])",
        )
        return got[:-1], got[-1]

    ids, integrity = ids_and_integrity(lab)
    assert integrity == "ok"
    assert ids == saved and failed_id not in ids
    # Small commits still fit and work after the failure.
    assert lab.call("tryInsert", i=10_000, nbytes=10)["ok"] is True
    saved.append(10_000)
    lab.page.close()

    lab = Lab(ctx, lab_url)
    lab.open("opfs", extraFiles=["blob.bin"])
    ids, integrity = ids_and_integrity(lab)
    assert integrity == "ok"
    assert ids == saved


def test_files_outside_the_database_set_are_refused(launch: Launcher, lab_url: str) -> None:
    lab = Lab(launch(), lab_url)
    lab.open("opfs")
    got = lab.call(
        "py",
        code="try:\n"
        "    open('/yloft/other.txt', 'w').close()\n"
        "    r = None\n"
        "except PermissionError as e:\n"
        "    r = str(e)\n"
        "json.dumps(r)",
    )
    assert got is not None and "other.txt" in got
    assert_intact(lab.check(), [])


def test_memory_kind_is_reported_and_forgets(launch: Launcher, lab_url: str) -> None:
    ctx = launch()
    lab = Lab(ctx, lab_url)
    info = lab.call("mount", force="memory")
    assert info["kind"] == "memory" and info["persisted"] is False
    lab.call("openDb")
    lab.call("commitLoop", start=0, n=10)
    assert len(lab.check()["ids"]) == 10
    lab.page.close()
    lab = Lab(ctx, lab_url)
    lab.open("memory")
    assert lab.check()["ids"] == []


def test_best_available_is_opfs_in_a_worker(launch: Launcher, lab_url: str) -> None:
    lab = Lab(launch(), lab_url)
    info = lab.call("mount")
    assert info["kind"] == "opfs"
    assert info["fallbackReason"] is None
    assert isinstance(info["persisted"], bool)
    assert info["dbPath"] == "/yloft/lab.db"
    # The measured settings, in the order to apply them (docs/storage.md).
    assert list(info["pragmas"].items()) == [
        ("page_size", 4096),
        ("locking_mode", "exclusive"),
        ("journal_mode", "wal"),
        ("journal_size_limit", 0),
        ("cache_size", -16000),
    ]


def test_refused_opfs_falls_back_to_idb_and_says_why(launch: Launcher, lab_url: str) -> None:
    ctx = launch()
    lab = Lab(ctx, lab_url)
    lab.call("refuseOpfs", name="SecurityError")
    info = lab.call("mount")
    assert info["kind"] == "idb"
    assert "SecurityError" in info["fallbackReason"]
    # Forced OPFS does not fall back: it fails with the browser's reason.
    other = Lab(ctx, lab_url)
    other.call("refuseOpfs", name="SecurityError")
    assert other.error_of("mount", force="opfs", path="/other")["name"] == "SecurityError"
    # A failure that is not a refusal of OPFS as such is never papered over.
    other.call("refuseOpfs", name="InvalidStateError")
    assert other.error_of("mount", path="/third")["name"] == "InvalidStateError"


@pytest.mark.parametrize(
    ("arg", "name"),
    [
        ({"name": "../x"}, "StorageNameError"),
        ({"name": ""}, "StorageNameError"),
        ({"force": "disk"}, "StorageNameError"),
    ],
)
def test_bad_mount_arguments_are_refused(
    arg: dict[str, str], name: str, launch: Launcher, lab_url: str
) -> None:
    lab = Lab(launch(), lab_url)
    err = lab.error_of("mount", **arg)
    assert err["name"] == name
    assert "use" in err["message"]
    # Nothing was mounted: a proper mount still works afterwards.
    assert lab.open("opfs") == "opfs"


def test_wal_works_whatever_the_pragma_order(launch: Launcher, lab_url: str) -> None:
    """journal_mode=WAL before locking_mode: the -shm index lives in memory (mmap works)."""
    code = """
import sqlite3
con = sqlite3.connect("/yloft/lab.db", isolation_level=None)
modes = [con.execute("PRAGMA journal_mode=wal").fetchone()[0],
         con.execute("PRAGMA locking_mode=exclusive").fetchone()[0]]
con.execute("CREATE TABLE IF NOT EXISTS n(x)")
con.execute("INSERT INTO n VALUES (1)")
modes.append(con.execute("SELECT count(*) FROM n").fetchone()[0])
con.close()
os.fsync(os.open("/yloft/lab.db", os.O_RDONLY))
json.dumps(modes)
"""
    ctx = launch()
    lab = Lab(ctx, lab_url)
    lab.call("mount", force="opfs")
    assert lab.call("py", code=code) == ["wal", "exclusive", 1]
    # Reopening an existing WAL database in NORMAL locking needs the -shm mapping.
    assert lab.call("py", code=code) == ["wal", "exclusive", 2]
    lab.page.close()
    lab = Lab(ctx, lab_url)
    lab.call("mount", force="opfs")
    assert lab.call("py", code=code) == ["wal", "exclusive", 3]


def test_mounting_twice_at_one_path_is_refused(launch: Launcher, lab_url: str) -> None:
    lab = Lab(launch(), lab_url)
    lab.open("opfs")
    err = lab.error_of("mount", force="memory")
    assert err["name"] == "StorageNameError"
    assert "already mounted at /yloft" in err["message"]
    lab.call("commitLoop", start=0, n=3)
    assert_intact(lab.check(), [0, 1, 2])


# ------------------------------------------------- byte-level file behaviour

RANDOM_FILE_OPS = """
import hashlib, os, random
rng = random.Random({seed})
model = bytearray()
fd = os.open("/yloft/blob.bin", os.O_RDWR | os.O_CREAT)
mismatches = []
for step in range(400):
    op = rng.random()
    if op < 0.45:
        pos = rng.randrange(0, len(model) + 100000)
        data = rng.randbytes(rng.randrange(1, 30000))
        assert os.pwrite(fd, data, pos) == len(data)
        model.extend(bytes(max(0, pos + len(data) - len(model))))
        model[pos : pos + len(data)] = data
    elif op < 0.7:
        size = rng.randrange(0, len(model) + 1) if op < 0.65 else len(model) + 30000
        os.ftruncate(fd, size)
        del model[size:]
        model.extend(bytes(size - len(model)))
    elif op < 0.9:
        pos, n = rng.randrange(0, len(model) + 10), rng.randrange(0, 20000)
        if os.pread(fd, n, pos) != bytes(model[pos : pos + n]):
            mismatches.append(step)
    elif op < 0.97:
        os.fsync(fd)
    else:
        os.close(fd)
        os.unlink("/yloft/blob.bin")
        fd = os.open("/yloft/blob.bin", os.O_RDWR | os.O_CREAT)
        model = bytearray()
os.fsync(fd)
if os.fstat(fd).st_size != len(model):
    mismatches.append("size")
os.close(fd)
json.dumps([len(model), hashlib.sha256(model).hexdigest(), mismatches])
"""

# An empty file on the OPFS mount reads as absent after a reload (docs/storage.md).
READ_BACK = """
import hashlib
try:
    with open("/yloft/blob.bin", "rb") as f:
        data = f.read()
except FileNotFoundError:
    data = b""
json.dumps([len(data), hashlib.sha256(data).hexdigest()])
"""


@pytest.mark.parametrize("force", ["opfs", "idb"])
@pytest.mark.parametrize("seed", [1, 2])
def test_random_writes_and_truncates_read_back_exactly(
    force: str, seed: int, launch: Launcher, lab_url: str
) -> None:
    """Random pwrite/ftruncate/pread on one file match a bytearray, also after reload."""
    ctx = launch()
    lab = Lab(ctx, lab_url)
    lab.call("mount", force=force, extraFiles=["blob.bin"])
    size, digest, mismatches = lab.call("py", code=RANDOM_FILE_OPS.format(seed=seed))
    assert mismatches == []
    lab.call("afterCommit")
    lab.page.close()

    lab = Lab(ctx, lab_url)
    lab.call("mount", force=force, extraFiles=["blob.bin"])
    assert lab.call("py", code=READ_BACK) == [size, digest]
