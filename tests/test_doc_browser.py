"""Browser test: headless Chromium opens the `policylang doc` page of a seed policy.

Chromium and a CJK font come from Debian's packages (`chromium`, `fonts-noto-cjk`); the
session fixture installs them with apt-get when `/usr/bin/chromium` is missing, so the
test runs the same way in CI and on a fresh machine. The page must render: a screenshot
of the requested size that is not blank, no console errors, and every rule's name in the
DOM Chromium built.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import shutil
import struct
import subprocess
import time
import zlib
from pathlib import Path

import pytest

from policylang import api
from policylang.doc import render_doc
from tests import apt

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SEEDS = ROOT.parent / "shared" / "seeds"
WIDTH, HEIGHT = 1280, 1600
APT_PACKAGES = ("chromium", "fonts-noto-cjk")


def ensure_chromium() -> Path:
    """Install Debian's chromium and a CJK font when chromium is missing; return its path."""
    if not CHROMIUM.exists() or not _has_cjk_font():
        if shutil.which("apt-get") is None:
            pytest.skip("chromium is missing and apt-get is not available to install it")
        apt.install(*APT_PACKAGES, recommends=False)
    return CHROMIUM


def _has_cjk_font() -> bool:
    """Whether fontconfig knows a font covering Chinese (else the page shows boxes)."""
    if shutil.which("fc-list") is None:
        return False
    listed = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False)
    return bool(listed.stdout.strip())


def _chromium_flags(profile: Path) -> list[str]:
    return ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", "--hide-scrollbars", f"--user-data-dir={profile}"]


@pytest.fixture(scope="session")
def chromium() -> Path:
    return ensure_chromium()


@pytest.fixture(scope="session")
def doc_page(tmp_path_factory) -> tuple[Path, object]:
    """The doc page of the 重庆 助保贷 policy, with its seed text as the source."""
    policy_file = ROOT / "policies" / "chongqing" / "zhubaodai.pol"
    policy = api.load(policy_file)
    seed = SEEDS / "002_bf8c83dbe5a34d1a.txt"
    html = render_doc(policy, api.read_source(policy_file),
                      seed.read_text(encoding="utf-8") if seed.exists() else None)
    page = tmp_path_factory.mktemp("doc") / "zhubaodai.html"
    page.write_text(html, encoding="utf-8")
    return page, policy


def _run_chromium(chromium: Path, profile: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(chromium), *_chromium_flags(profile), *args],
                          capture_output=True, text=True, timeout=90, check=False)


def _png_size_and_pixels(png: bytes) -> tuple[int, int, set[bytes]]:
    """Width, height and the set of distinct pixel values (RGB or RGBA) of a PNG."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height, depth, color_type = struct.unpack(">IIBB", png[16:26])
    assert depth == 8 and color_type in (2, 6), f"unexpected PNG format {depth}/{color_type}"
    channels = 3 if color_type == 2 else 4
    data, offset = b"", 8
    while offset < len(png):
        length, kind = struct.unpack(">I4s", png[offset:offset + 8])
        if kind == b"IDAT":
            data += png[offset + 8:offset + 8 + length]
        offset += 12 + length
    raw = zlib.decompress(data)
    stride = width * channels
    pixels: set[bytes] = set()
    previous = bytearray(stride)
    for row in range(height):
        start = row * (stride + 1)
        line = _unfilter(raw[start], bytearray(raw[start + 1:start + 1 + stride]), previous,
                         channels)
        pixels.update(bytes(line[i:i + 3]) for i in range(0, stride, channels * 7))
        previous = line
    return width, height, pixels


def _unfilter(kind: int, line: bytearray, previous: bytearray, bpp: int) -> bytearray:
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up = previous[i]
        upper_left = previous[i - bpp] if i >= bpp else 0
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 2:
            line[i] = (line[i] + up) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            p = left + up - upper_left
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
            predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else upper_left)
            line[i] = (line[i] + predictor) & 0xFF
    return line


def console_errors(chromium: Path, profile: Path, url: str, timeout: float = 60) -> list[str]:
    """The errors a page reports while loading, read over the DevTools protocol.

    Chromium speaks CDP over fds 3 and 4 with `--remote-debugging-pipe` (NUL-separated
    JSON). Errors are console.error/assert calls, uncaught exceptions, and browser log
    entries of level error (a resource that failed to load, a blocked request).
    """
    to_chrome_read, to_chrome_write = os.pipe()
    from_chrome_read, from_chrome_write = os.pipe()

    def wire_pipes() -> None:  # in the child: the pipe ends become fds 3 and 4
        read_end = fcntl.fcntl(to_chrome_read, fcntl.F_DUPFD, 10)
        write_end = fcntl.fcntl(from_chrome_write, fcntl.F_DUPFD, 10)
        os.dup2(read_end, 3)
        os.dup2(write_end, 4)

    process = subprocess.Popen(
        [str(chromium), *_chromium_flags(profile), "--remote-debugging-pipe", "about:blank"],
        preexec_fn=wire_pipes, close_fds=False, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    os.close(to_chrome_read)
    os.close(from_chrome_write)
    events: list[dict] = []
    pending = b""
    counter = 0
    deadline = time.monotonic() + timeout

    def send(method: str, params: dict | None = None, session: str | None = None) -> int:
        nonlocal counter
        counter += 1
        message = {"id": counter, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(to_chrome_write, json.dumps(message).encode() + b"\0")
        return counter

    def wait_for(matches) -> dict:
        nonlocal pending
        while time.monotonic() < deadline:
            while b"\0" in pending:
                raw, pending = pending.split(b"\0", 1)
                message = json.loads(raw)
                if matches(message):
                    return message
                events.append(message)
            if select.select([from_chrome_read], [], [], 0.2)[0]:
                chunk = os.read(from_chrome_read, 1 << 20)
                assert chunk, "chromium closed the DevTools pipe"
                pending += chunk
        raise TimeoutError("chromium did not answer in time")

    def call(method: str, params: dict | None = None, session: str | None = None) -> dict:
        sent = send(method, params, session)
        return wait_for(lambda m: m.get("id") == sent).get("result", {})

    try:
        target = call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            call(f"{domain}.enable", session=session)
        send("Page.navigate", {"url": url}, session)
        wait_for(lambda m: m.get("method") == "Page.loadEventFired")
        call("Runtime.evaluate", {"expression": "document.fonts.ready.then(() => true)",
                                  "awaitPromise": True}, session)
        send("Browser.close")
    finally:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        os.close(to_chrome_write)
        os.close(from_chrome_read)
    errors = []
    for event in events:
        params = event.get("params", {})
        match event.get("method"):
            case "Runtime.consoleAPICalled" if params["type"] in ("error", "assert"):
                errors.append(" ".join(str(a.get("value", a.get("description")))
                                       for a in params["args"]))
            case "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                errors.append(details.get("exception", {}).get("description", details["text"]))
            case "Log.entryAdded" if params["entry"]["level"] == "error":
                errors.append(params["entry"]["text"])
    return errors


def test_screenshot_is_rendered_at_the_requested_size(chromium, doc_page, tmp_path):
    page, _ = doc_page
    shot = tmp_path / "shot.png"
    result = _run_chromium(chromium, tmp_path / "profile", f"--screenshot={shot}",
                           f"--window-size={WIDTH},{HEIGHT}", page.as_uri())
    assert shot.exists(), result.stderr[-2000:]
    width, height, pixels = _png_size_and_pixels(shot.read_bytes())
    assert (width, height) == (WIDTH, HEIGHT)
    assert len(pixels) > 50, "the screenshot is (nearly) one colour: the page did not render"
    if os.environ.get("POLICYLANG_UPDATE_SCREENSHOT"):
        shutil.copyfile(shot, ROOT / "docs" / "doc-screenshot.png")


def test_the_page_logs_no_console_errors(chromium, doc_page, tmp_path):
    page, _ = doc_page
    assert console_errors(chromium, tmp_path / "profile", page.as_uri()) == []


def test_console_errors_are_caught(chromium, tmp_path):
    """The check above can fail: a page with errors is reported."""
    broken = tmp_path / "broken.html"
    broken.write_text('<!DOCTYPE html><meta charset="utf-8"><img src="missing.png">'
                      '<script>console.error("坏了"); undefined_function();</script>',
                      encoding="utf-8")
    errors = console_errors(chromium, tmp_path / "profile", broken.as_uri())
    assert "坏了" in errors
    assert any("undefined_function is not defined" in e for e in errors)
    assert any("missing.png" in e or "ERR_FILE_NOT_FOUND" in e for e in errors)


def test_dom_holds_every_rule_and_the_cited_article(chromium, doc_page, tmp_path):
    page, policy = doc_page
    result = _run_chromium(chromium, tmp_path / "profile", "--dump-dom", page.as_uri())
    dom = result.stdout
    assert "<main" in dom, result.stderr[-2000:]
    for check in policy.checks:
        assert f'id="rule-{check.name}"' in dom
        assert f"<code>{check.name}</code>" in dom
    # The seed text of 第十条 (the loan cap) is shown beside maximum_cap.
    assert "最高不超过 1000万元" in dom
    assert "重庆高新区中小微企业" in dom
