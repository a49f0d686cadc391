"""Language-server latency: from a `didChange` to the diagnostics for it, on a 500-line policy.

Target: under 100 ms. Starts the real server (`python -m policylang lsp`) over a pipe,
opens a generated valid policy of exactly 500 lines, then sends edits one at a time and
measures the wall time from writing each `didChange` to reading the `publishDiagnostics`
for that version — the debounce delay, parsing, checking and running the file's test
blocks included — and the server's CPU time per edit (from /proc; on a busy machine the
wall time also counts waiting for a CPU, the CPU time does not). Three kinds of edit
alternate: a bound changed (the file stays valid), a unit error introduced (money +
percent), and a syntax error.

    python benchmarks/lsp_latency.py [--edits 60]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

LINES = 500
URI = "file:///tmp/policylang-bench/latency.pol"
PAUSE = 0.05  # seconds between edits


def generate(lines: int = LINES) -> str:
    """A valid policy of exactly `lines` lines: inputs, lets, rules, limits, shares, tests."""
    groups = (lines - 16) // 12  # each group: 3 inputs and 9 declaration lines
    out = ['policy latency_bench "响应时间基准政策" {', '  version "1"',
           '  enum kind { enterprise "企业"  individual "个体工商户" }',
           '  param lpr: percent = 3.45% "同期LPR"', "  input {", "    borrower: kind"]
    for g in range(groups):
        out += [f'    amount_{g}: money "第{g}组贷款金额"', f"    rate_{g}: percent",
                f"    overdue_{g}: money = 0元"]
    out.append("  }")
    for g in range(groups):
        out += [f'  let fee_{g} = amount_{g} * 1% cite "第{g + 1}条"',
                f"  let net_{g} = amount_{g} - fee_{g}",
                f'  rule positive_{g}: amount_{g} > 0元 cite "第{g + 1}条"',
                f"  limit cap_{g}: amount_{g} <= 1000万 when borrower == enterprise",
                f"  limit rate_cap_{g}: rate_{g} <= lpr + 150bp",
                f"  shares loss_{g} of amount_{g} {{ bank: 20%  fund: 80% }}",
                f"  waterfall claim_{g}(overdue_{g}) {{ take bank up to 1万  rest fund }}",
                f"  limit net_cap_{g}: net_{g} <= 990万", ""]
    given = "  ".join(f"amount_{g}: 100万  rate_{g}: 4%" for g in range(groups))
    out += ['  test "企业 100万" {', f"    given {{ borrower: enterprise  {given} }}",
            "    expect eligible", "    expect loss_0.fund == 80万", "  }"]
    out += [f"  # 注释 {i}" for i in range(lines - len(out) - 1)] + ["}"]
    assert len(out) == lines
    return "\n".join(out) + "\n"


class Client:
    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "policylang", "lsp"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.next_id = 0

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.process.stdin.write(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        self.process.stdin.flush()

    def read(self) -> dict:
        length = 0
        while (line := self.process.stdout.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return json.loads(self.process.stdout.read(length))

    def request(self, method: str, params: object) -> object:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        while (message := self.read()).get("id") != self.next_id or "method" in message:
            pass
        return message.get("result")

    def diagnostics(self, version: int) -> list[dict]:
        while True:
            message = self.read()
            params = message.get("params") or {}
            if (message.get("method") == "textDocument/publishDiagnostics"
                    and params.get("version") == version):
                return params["diagnostics"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=60)
    edits = parser.parse_args().edits
    source = generate()
    edits_by_kind = {
        "bound changed (valid)": lambda i: source.replace("<= 1000万", f"<= {1000 + i}万", 1),
        "unit error (E2xx)": lambda i: source.replace("amount_0 * 1%", "amount_0 + 1%", 1),
        "syntax error (E1xx)": lambda i: source.replace("let net_0 =", "let net_0 = =", 1),
    }
    client = Client()
    client.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
    client.send({"method": "initialized", "params": {}})
    client.send({"method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": URI, "languageId": "policylang", "version": 1, "text": source}}})
    opened = client.diagnostics(1)
    assert opened == [], f"the generated policy should be valid: {opened[:2]}"
    timings: dict[str, list[float]] = {kind: [] for kind in edits_by_kind}
    cpu: dict[str, float] = {kind: 0.0 for kind in edits_by_kind}
    found: dict[str, set[str]] = {kind: set() for kind in edits_by_kind}
    version = 1
    for i in range(edits):
        kind = list(edits_by_kind)[i % len(edits_by_kind)]
        version += 1
        text = edits_by_kind[kind](i)
        cpu_before = server_cpu_seconds(client.process.pid)
        started = time.perf_counter()
        client.send({"method": "textDocument/didChange", "params": {
            "textDocument": {"uri": URI, "version": version},
            "contentChanges": [{"text": text}]}})
        diagnostics = client.diagnostics(version)
        timings[kind].append((time.perf_counter() - started) * 1000)
        cpu[kind] += server_cpu_seconds(client.process.pid) - cpu_before
        found[kind] |= {d["code"] for d in diagnostics}
        time.sleep(PAUSE)  # a drafter's next keystroke
    client.request("shutdown", None)
    client.send({"method": "exit", "params": None})
    client.process.wait(timeout=10)
    print(f"policy: {source.count(chr(10))} lines; {edits} edits, {PAUSE * 1000:.0f} ms apart "
          f"(more than the {debounce_ms():.0f} ms debounce window, so each is analysed at "
          "once, as a keystroke is)")
    print(f"machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
          "(wall times include waiting for a CPU)")
    print(f"{'edit':<24} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'server CPU ms':>14}"
          "  codes")
    for kind, values in timings.items():
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        cpu_ms = cpu[kind] * 1000 / len(values)
        print(f"{kind:<24} {statistics.median(values):>10.1f} {p95:>8.1f} {max(values):>8.1f}"
              f" {cpu_ms:>14.1f}  {', '.join(sorted(found[kind])) or '—'}")


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU time the server process has used (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def debounce_ms() -> float:
    from policylang.lsp import DEBOUNCE_SECONDS

    return DEBOUNCE_SECONDS * 1000


if __name__ == "__main__":
    main()
