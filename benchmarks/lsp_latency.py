"""Language-server latency: from a `didChange` to the diagnostics for it, on a 500-line policy.

Target: under 100 ms. Starts the real server (`python -m policylang lsp`) over a pipe,
opens a generated valid policy of exactly 500 lines, then sends edits one at a time and
measures the wall time from writing each `didChange` to reading the first
`publishDiagnostics` for that version (the server publishes the parse and check errors
first and the test blocks' results after, for the same version) — the debounce delay,
parsing and checking included — and the server's CPU time per edit (from /proc, up to the
next edit, so the test blocks' run counts; on a busy machine the wall time also counts
waiting for a CPU, the CPU time does not). The kinds of edit alternate: a bound changed
(the file stays valid), a unit error introduced (money + percent), a syntax error near the
top and one near the end (a parse of the whole file reaches it only after all the rest),
and a line inserted near the top (the declarations below it move down). Each edit is made
to the generated text, so it also undoes the one before (the edit after the inserted line
moves the declarations back up). Each comes 50 ms after the diagnostics for the previous
one, more than the debounce window, so it is analysed at once, as a keystroke after a
pause is. Last, bursts of keystrokes 10 ms apart: the time from a burst's last
`didChange` to its diagnostics includes the debounce delay.

    python benchmarks/lsp_latency.py [--edits 150] [--bursts 20]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

LINES = 500
URI = "file:///tmp/policylang-bench/latency.pol"
PAUSE = 0.05  # seconds between edits
BURST, BURST_GAP = 5, 0.01  # keystrokes in a burst, seconds between them
GROUPS = (LINES - 16) // 12  # declaration groups in the generated policy


def generate(lines: int = LINES) -> str:
    """A valid policy of exactly `lines` lines: inputs, lets, rules, limits, shares, tests."""
    groups = (lines - 16) // 12  # each group: 3 inputs and 9 declaration lines (GROUPS)
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

    def change(self, version: int, text: str) -> None:
        self.send({"method": "textDocument/didChange", "params": {
            "textDocument": {"uri": URI, "version": version}, "contentChanges": [{"text": text}]}})

    def diagnostics(self, version: int) -> list[dict]:
        while True:
            message = self.read()
            params = message.get("params") or {}
            if (message.get("method") == "textDocument/publishDiagnostics"
                    and params.get("version") == version):
                return params["diagnostics"]


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (p95 of 20 values is the 19th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=150)
    parser.add_argument("--bursts", type=int, default=20)
    arguments = parser.parse_args()
    source = generate()
    edits_by_kind = {
        "bound changed (valid)": lambda i: source.replace("<= 1000万", f"<= {1000 + i}万", 1),
        "unit error (E2xx)": lambda i: source.replace("amount_0 * 1%", "amount_0 + 1%", 1),
        "syntax error, top": lambda i: source.replace("let net_0 =", "let net_0 = =", 1),
        "syntax error, end": lambda i: source.replace(f"let net_{GROUPS - 1} =",
                                                      f"let net_{GROUPS - 1} = =", 1),
        "line inserted, top": lambda i: source.replace("  let net_0 =", "\n  let net_0 =", 1),
    }
    load_before = os.getloadavg()
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
    for i in range(arguments.edits):
        kind = list(edits_by_kind)[i % len(edits_by_kind)]
        version += 1
        text = edits_by_kind[kind](i)
        cpu_before = server_cpu_seconds(client.process.pid)
        started = time.perf_counter()
        client.change(version, text)
        diagnostics = client.diagnostics(version)
        timings[kind].append((time.perf_counter() - started) * 1000)
        found[kind] |= {d["code"] for d in diagnostics}
        time.sleep(PAUSE)  # a drafter's next keystroke
        cpu[kind] += server_cpu_seconds(client.process.pid) - cpu_before
    bursts: list[float] = []
    for i in range(arguments.bursts):
        for digit in range(BURST):  # typing a number into a bound, one digit at a time
            version += 1
            started = time.perf_counter()
            client.change(version, source.replace("<= 1000万", f"<= {i}{'7' * digit}万", 1))
            if digit < BURST - 1:
                time.sleep(BURST_GAP)
        client.diagnostics(version)
        bursts.append((time.perf_counter() - started) * 1000)
        time.sleep(PAUSE * 4)
    client.request("shutdown", None)
    client.send({"method": "exit", "params": None})
    client.process.wait(timeout=10)
    load_after = os.getloadavg()
    print(f"policy: {source.count(chr(10))} lines; {arguments.edits} edits, "
          f"{PAUSE * 1000:.0f} ms after the previous one's diagnostics (more than the "
          f"{debounce_ms():.0f} ms debounce window, so each is analysed at once)")
    print(f"machine load average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} "
          f"after, on {os.cpu_count()} CPUs (wall times include waiting for a CPU)")
    print(f"{'edit':<26} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'server CPU ms':>14}"
          "  codes")
    rows = [(kind, values, cpu[kind] * 1000 / len(values), ", ".join(sorted(found[kind])))
            for kind, values in timings.items() if values]
    every = [value for values in timings.values() for value in values]
    rows.append(("every edit above", every, sum(cpu.values()) * 1000 / len(every), ""))
    if bursts:
        rows.append((f"burst of {BURST}, {BURST_GAP * 1000:.0f} ms apart", bursts, None,
                     "from the last keystroke; debounce included"))
    for kind, values, cpu_ms, note in rows:
        cpu_text = f"{cpu_ms:>14.1f}" if cpu_ms is not None else f"{'':>14}"
        print(f"{kind:<26} {statistics.median(values):>10.1f} {percentile(values, 0.95):>8.1f}"
              f" {max(values):>8.1f} {cpu_text}  {note or '—'}")


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
