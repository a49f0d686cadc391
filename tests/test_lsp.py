"""The language server, driven for real: `policylang lsp` in a subprocess, JSON-RPC over
its stdin/stdout, exactly as an editor talks to it."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from policylang.formatter import format_source

URI = "file:///tmp/policylang-lsp-test/demo.pol"

GOOD = """\
policy lsp_demo "演示政策" {
  version "2022"
  enum borrower_kind { enterprise "企业"  individual_business "个体工商户" }
  input {
    borrower:    borrower_kind
    loan_amount: money "贷款本金"
    overdue:     money = 0元
  }
  param lpr: percent = 3.45% "同期LPR"
  let premium = loan_amount * 1% cite "三(五)"
  limit enterprise_cap: loan_amount <= 1000万 when borrower == enterprise cite "三(二)"
  rule rate_rule: lpr < 5%
  shares first_loan_loss of loan_amount cite "三(六)" { bank: 10%  insurer: 90% }
  waterfall claim(overdue) { take bank up to 1万  rest insurer }
  limit fee_cap: premium <= lpr * 1亿
  test "企业 1000万" {
    given { borrower: enterprise  loan_amount: 1000万 }
    expect eligible
    expect first_loan_loss.insurer == 900万
    expect premium == 10万
  }
}
"""
# Two mistakes: an unknown name on line 10, a percent compared with money on line 12.
BAD = (GOOD.replace("let premium = loan_amount * 1%", "let premium = loan_amont * 1%")
       .replace("rule rate_rule: lpr < 5%", "rule rate_rule: lpr < 5万"))


def _position(text: str, needle: str, occurrence: int = 0, offset: int = 0) -> dict:
    """The LSP position (UTF-16 columns) of the n-th occurrence of needle, plus offset."""
    index = -1
    for _ in range(occurrence + 1):
        index = text.index(needle, index + 1)
    index += offset
    line = text.count("\n", 0, index)
    start = text.rfind("\n", 0, index) + 1
    return {"line": line, "character": len(text[start:index].encode("utf-16-le")) // 2}


class Client:
    """A minimal LSP client: Content-Length framed JSON-RPC over a pipe."""

    def __init__(self) -> None:
        # The server's log goes to a file: a pipe nobody reads fills up (64 KiB) with the
        # tracebacks pygls logs, and then the server blocks in the middle of a reply.
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen([sys.executable, "-m", "policylang", "lsp"],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self.log)
        self.next_id = 0
        self.notifications: list[dict] = []

    def send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        assert self.process.stdin is not None
        self.process.stdin.write(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        self.process.stdin.flush()

    def read(self) -> dict:
        stream = self.process.stdout
        assert stream is not None
        length = None
        while True:
            line = stream.readline()
            assert line, "the server closed its output: " + self._stderr()
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        assert length is not None
        return json.loads(stream.read(length))

    def _stderr(self) -> str:
        self.process.kill()
        self.process.wait()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def request(self, method: str, params: dict) -> object:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        while True:
            message = self.read()
            if message.get("id") == self.next_id and "method" not in message:
                assert "error" not in message, message["error"]
                return message.get("result")
            if "method" in message and "id" in message:  # a server→client request
                self.send({"id": message["id"], "result": None})
            elif "method" in message:
                self.notifications.append(message)

    def reply(self, method: str, params: object) -> dict:
        """The server's whole reply (result or error) to one request.

        A second request follows it; the server answers in order, so when the second one's
        reply comes first, the first request got none (a client would wait forever)."""
        self.next_id += 1
        asked = self.next_id
        self.send({"id": asked, "method": method, "params": params})
        self.next_id += 1
        self.send({"id": self.next_id, "method": "policylang/ping", "params": None})
        found = None
        while True:
            message = self.read()
            if "method" in message:
                self.notifications.append(message)
            elif message.get("id") == asked:
                found = message
            elif message.get("id") == self.next_id:
                assert found is not None, f"no reply to {method} {params}"
                return found

    def notify(self, method: str, params: dict) -> None:
        self.send({"method": method, "params": params})

    def diagnostics(self, version: int) -> list[dict]:
        """The diagnostics the server publishes for the document at `version`."""
        while True:
            for message in self.notifications:
                if (message["method"] == "textDocument/publishDiagnostics"
                        and message["params"].get("version") == version):
                    self.notifications.remove(message)
                    return message["params"]["diagnostics"]
            message = self.read()
            if "method" in message and "id" not in message:
                self.notifications.append(message)

    def close(self) -> None:
        self.request("shutdown", None)  # type: ignore[arg-type]
        self.notify("exit", None)  # type: ignore[arg-type]
        self.process.wait(timeout=10)
        self.log.close()


@pytest.fixture(scope="module")
def client():
    c = Client()
    result = c.request("initialize", {"processId": None, "rootUri": None,
                                      "capabilities": {}})
    capabilities = result["capabilities"]  # type: ignore[index]
    for feature in ("hoverProvider", "definitionProvider", "referencesProvider",
                    "completionProvider", "documentSymbolProvider",
                    "documentFormattingProvider"):
        assert capabilities.get(feature), feature
    c.notify("initialized", {})
    c.notify("textDocument/didOpen", {"textDocument": {
        "uri": URI, "languageId": "policylang", "version": 1, "text": BAD}})
    c.opened_diagnostics = c.diagnostics(1)
    c.notify("textDocument/didChange", {
        "textDocument": {"uri": URI, "version": 2},
        "contentChanges": [{"text": GOOD}]})
    c.fixed_diagnostics = c.diagnostics(2)
    yield c
    c.close()
    assert c.process.returncode == 0


def test_a_bad_file_gets_every_error_with_code_and_range(client):
    found = sorted(client.opened_diagnostics, key=lambda d: d["range"]["start"]["line"])
    assert [(d["code"], d["range"]) for d in found] == [
        ("E402", {"start": _position(BAD, "loan_amont"),
                  "end": _position(BAD, "loan_amont", offset=len("loan_amont"))}),
        ("E202", {"start": _position(BAD, "lpr < 5万"),
                  "end": _position(BAD, "lpr < 5万", offset=len("lpr < 5万"))}),
    ]
    assert "loan_amont" in found[0]["message"]
    assert all(d["severity"] == 1 and d["source"] == "policylang" for d in found)


def test_fixing_the_file_clears_the_diagnostics(client):
    assert client.fixed_diagnostics == []


def test_a_failed_expectation_is_a_diagnostic_on_its_line():
    c = Client()
    try:
        c.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
        c.notify("initialized", {})
        failing = GOOD.replace("expect premium == 10万", "expect premium == 11万")
        c.notify("textDocument/didOpen", {"textDocument": {
            "uri": URI, "languageId": "policylang", "version": 1, "text": failing}})
        (diagnostic,) = c.diagnostics(1)
        assert diagnostic["code"] == "E506"
        assert diagnostic["range"]["start"] == _position(failing, "expect premium")
        assert "premium is 10万" in diagnostic["message"]  # as the test writes amounts
    finally:
        c.close()


@pytest.mark.parametrize(("needle", "occurrence", "expected"), [
    ("loan_amount", 1, ["**input** `loan_amount`", "type `money`", "元", "贷款本金"]),
    ("lpr", 1, ["**param** `lpr`", "type `percent`", "同期LPR", "default `3.45%`"]),
    ("premium", 1, ["**let** `premium`", "type `money`", "loan_amount * 1%", "三(五)"]),
    ("enterprise_cap", 0, ["**limit** `enterprise_cap`", "bound: `1000万`", "三(二)",
                           "applies when `borrower == enterprise`"]),
    ("fee_cap", 0, ["**limit** `fee_cap`", "bound: `lpr * 1亿`",
                    "= `3450000元` at the params' defaults"]),
    ("enterprise", 2, ["`borrower_kind.enterprise`", "企业"]),
    ("insurer", 2, ["**part** `first_loan_loss.insurer`", "money", "三(六)"]),
])
def test_hover(client, needle, occurrence, expected):
    result = client.request("textDocument/hover", {
        "textDocument": {"uri": URI}, "position": _position(GOOD, needle, occurrence, 1)})
    assert result is not None
    text = result["contents"]["value"]
    for fragment in expected:
        assert fragment in text


@pytest.mark.parametrize(("needle", "occurrence", "declared_at"), [
    ("loan_amount", 2, ("loan_amount:", 0)),  # an input used in a limit
    ("lpr", 1, ("lpr:", 0)),  # a param
    ("premium", 1, ("premium =", 0)),  # a let used in a test
    ("borrower_kind", 1, ("borrower_kind", 0)),  # an enum used as a type
    ("enterprise", 2, ("enterprise", 0)),  # an enum member
    ("first_loan_loss", 1, ("first_loan_loss", 0)),  # shares
    ("insurer", 2, ("insurer", 0)),  # a part
])
def test_go_to_definition(client, needle, occurrence, declared_at):
    result = client.request("textDocument/definition", {
        "textDocument": {"uri": URI}, "position": _position(GOOD, needle, occurrence, 1)})
    target, index = declared_at
    name = target.split()[0].rstrip(":")
    assert result == {"uri": URI, "range": {
        "start": _position(GOOD, target, index),
        "end": _position(GOOD, target, index, len(name))}}


def test_find_references(client):
    result = client.request("textDocument/references", {
        "textDocument": {"uri": URI}, "position": _position(GOOD, "loan_amount", 0, 2),
        "context": {"includeDeclaration": True}})
    lines = sorted(location["range"]["start"]["line"] for location in result)
    # declared on line 5; used by premium, enterprise_cap, the shares and the test's given
    assert lines == [5, 9, 10, 12, 16]
    without = client.request("textDocument/references", {
        "textDocument": {"uri": URI}, "position": _position(GOOD, "enterprise", 0, 2),
        "context": {"includeDeclaration": False}})
    assert sorted(loc["range"]["start"]["line"] for loc in without) == [10, 16]


def test_completion_offers_names_keywords_and_parts(client):
    result = client.request("textDocument/completion", {
        "textDocument": {"uri": URI}, "position": _position(GOOD, "expect eligible")})
    labels = {item["label"] for item in result["items"]}
    assert {"loan_amount", "lpr", "premium", "enterprise_cap", "first_loan_loss",
            "borrower_kind", "enterprise", "expect", "limit", "cite", "min"} <= labels
    parts = client.request("textDocument/completion", {
        "textDocument": {"uri": URI},
        "position": _position(GOOD, "first_loan_loss.insurer", offset=len("first_loan_loss."))})
    assert {item["label"] for item in parts["items"]} == {"bank", "insurer"}


def test_document_symbols_outline_the_policy(client):
    result = client.request("textDocument/documentSymbol", {"textDocument": {"uri": URI}})
    outline = {(symbol["name"], symbol["detail"]) for symbol in result}
    assert {("premium", "let"), ("enterprise_cap", "limit"), ("rate_rule", "rule"),
            ("first_loan_loss", "shares"), ("claim", "waterfall"), ("企业 1000万", "test"),
            ("loan_amount", "input"), ("lpr", "param"), ("borrower_kind", "enum")} <= outline
    shares = next(symbol for symbol in result if symbol["name"] == "first_loan_loss")
    assert [child["name"] for child in shares["children"]] == ["bank", "insurer"]


def test_formatting_goes_through_the_formatter(client):
    messy = GOOD.replace("  rule rate_rule: lpr < 5%", "rule   rate_rule :lpr<5%")
    client.notify("textDocument/didChange", {"textDocument": {"uri": URI, "version": 3},
                                             "contentChanges": [{"text": messy}]})
    client.diagnostics(3)
    edits = client.request("textDocument/formatting", {
        "textDocument": {"uri": URI}, "options": {"tabSize": 2, "insertSpaces": True}})
    assert len(edits) == 1
    assert edits[0]["newText"] == format_source(messy)
    assert edits[0]["range"]["start"] == {"line": 0, "character": 0}


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["CRLF", "lone CR"])
def test_formatting_keeps_the_documents_line_breaks(client, newline):
    """A CRLF document was formatted into `\n` line breaks: every line of the file changed
    for version control. Formatted, it keeps its own; once formatted, nothing to do."""
    uri = URI.replace("demo.pol", f"format-cr{len(newline)}.pol")
    messy = GOOD.replace("  rule rate_rule: lpr < 5%", "rule   rate_rule :lpr<5%")
    client.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "policylang", "version": 1,
        "text": messy.replace("\n", newline)}})
    options = {"tabSize": 2, "insertSpaces": True}
    (edit,) = client.request("textDocument/formatting",
                             {"textDocument": {"uri": uri}, "options": options})
    assert edit["newText"] == format_source(messy).replace("\n", newline)
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                             "contentChanges": [{"text": edit["newText"]}]})
    assert client.request("textDocument/formatting",
                          {"textDocument": {"uri": uri}, "options": options}) == []
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    client.request("textDocument/hover", {"textDocument": {"uri": URI},
                                          "position": {"line": 0, "character": 0}})
    client.notifications[:] = [m for m in client.notifications
                               if m.get("params", {}).get("uri") != uri]


def test_diagnostics_are_debounced(client):
    """A burst of edits: the first is analysed at once, the rest only as the last text."""
    time.sleep(0.2)  # a quiet spell before the burst
    burst = range(10, 16)
    for version in burst:
        client.notify("textDocument/didChange", {
            "textDocument": {"uri": URI, "version": version},
            "contentChanges": [{"text": BAD if version < burst[-1] else GOOD}]})
    started = time.monotonic()
    assert client.diagnostics(burst[-1]) == []
    assert time.monotonic() - started < 5
    published = {m["params"]["version"] for m in client.notifications
                 if m["method"] == "textDocument/publishDiagnostics"}
    client.notifications.clear()
    assert published & set(burst[1:-1]) == set(), "edits inside a burst were analysed"


def test_utf16_columns_after_chinese_text(client):
    text = GOOD.replace('loan_amount: money "贷款本金"', 'loan_amount: money "贷款本金"；')
    client.notify("textDocument/didChange", {"textDocument": {"uri": URI, "version": 20},
                                             "contentChanges": [{"text": text}]})
    (diagnostic,) = client.diagnostics(20)
    assert diagnostic["code"].startswith("E1")
    assert diagnostic["range"]["start"] == _position(text, "；")
    # While the text does not parse, requests answer from the last version that did.
    result = client.request("textDocument/completion", {
        "textDocument": {"uri": URI}, "position": _position(text, "expect eligible")})
    assert {"loan_amount", "premium"} <= {item["label"] for item in result["items"]}
    hover = client.request("textDocument/hover", {
        "textDocument": {"uri": URI}, "position": _position(text, "premium", 1, 1)})
    assert "**let** `premium`" in hover["contents"]["value"]


def test_the_vscode_extension_launches_this_server():
    root = Path(__file__).resolve().parent.parent / "editors" / "vscode"
    manifest = json.loads((root / "package.json").read_text(encoding="utf-8"))
    assert manifest["contributes"]["languages"][0]["extensions"] == [".pol"]
    grammar = json.loads((root / manifest["contributes"]["grammars"][0]["path"])
                         .read_text(encoding="utf-8"))
    assert grammar["scopeName"] == manifest["contributes"]["grammars"][0]["scopeName"]
    client_source = (root / "extension.js").read_text(encoding="utf-8")
    assert '"lsp"' in client_source and "vscode-languageclient" in client_source
    assert manifest["main"] == "./extension.js"
    assert "vscode-languageclient" in manifest["dependencies"]


def test_the_textmate_grammar_scopes_policy_tokens():
    """Each pattern compiles, and the grammar classifies a policy's tokens like the lexer."""
    import re

    root = Path(__file__).resolve().parent.parent / "editors" / "vscode"
    grammar = json.loads((root / "syntaxes" / "policylang.tmLanguage.json")
                         .read_text(encoding="utf-8"))
    patterns = {}
    for rule in grammar["repository"].values():
        for pattern in rule.get("patterns", [rule]):
            if "match" in pattern:
                patterns[pattern.get("name", "declared")] = re.compile(pattern["match"])
    line = 'limit cap: loan_amount <= 1000万 when term <= 18个月 cite "第十条"  # 注释'
    def found(scope: str) -> list[str]:
        return [m.group(0) for m in patterns[scope].finditer(line)]
    assert found("storage.type.declaration.policylang") == ["limit"]
    assert found("constant.numeric.money.policylang") == ["1000万"]
    assert found("constant.numeric.duration.policylang") == ["18个月"]
    assert found("keyword.control.policylang") == ["when", "cite"]
    assert found("comment.line.number-sign.policylang") == ["# 注释"]


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_extension_client_is_valid_javascript():
    root = Path(__file__).resolve().parent.parent / "editors" / "vscode"
    checked = subprocess.run(["node", "--check", str(root / "extension.js")],
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr


# ── two publications: the check's diagnostics at once, the test blocks' after ──


def _publications(c: Client, version: int) -> list[list[dict]]:
    """Every publication for `version` read so far (in order), taken off the queue."""
    found = [m for m in c.notifications if m["method"] == "textDocument/publishDiagnostics"
             and m["params"].get("version") == version]
    for message in found:
        c.notifications.remove(message)
    return [m["params"]["diagnostics"] for m in found]


def test_check_diagnostics_come_first_and_test_results_after():
    failing = GOOD.replace("expect premium == 10万", "expect premium == 11万")
    moved = failing.replace("  test ", "  # a comment above the test\n  test ")
    c = Client()
    try:
        c.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
        c.notify("initialized", {})
        c.notify("textDocument/didOpen", {"textDocument": {
            "uri": URI, "languageId": "policylang", "version": 1, "text": GOOD}})
        assert c.diagnostics(1) == []

        def change(version: int, text: str) -> None:
            time.sleep(0.1)  # after a pause: analysed at once, not debounced
            c.notify("textDocument/didChange", {"textDocument": {"uri": URI, "version": version},
                                                "contentChanges": [{"text": text}]})

        # The test block now fails: first the parse and check diagnostics (none), then the
        # same version again with the test's result.
        change(2, failing)
        assert c.diagnostics(2) == []
        (result,) = c.diagnostics(2)
        assert result["code"] == "E506" and "premium" in result["message"]
        assert result["range"]["start"] == _position(failing, "expect premium")

        # An edit above it: the failure is shown at once where the test now is, and, the
        # fresh result being the same, not published a second time.
        change(3, moved)
        (carried,) = c.diagnostics(3)
        assert carried["message"] == result["message"]
        assert carried["range"]["start"] == _position(moved, "expect premium")

        # A check error: the test blocks do not run on a policy that does not check, and
        # their results are not shown (as before the two publications).
        broken = moved.replace("rule rate_rule: lpr < 5%", "rule rate_rule: lpr < 5万")
        change(4, broken)
        assert [d["code"] for d in c.diagnostics(4)] == ["E202"]

        # Fixed: the last result known comes back at once, and goes with the second
        # publication, the test passing now.
        change(5, GOOD)
        assert [d["code"] for d in c.diagnostics(5)] == ["E506"]
        assert c.diagnostics(5) == []
        c.request("textDocument/hover", {"textDocument": {"uri": URI},
                                         "position": _position(GOOD, "premium", 1, 1)})
        assert _publications(c, 3) == [] and _publications(c, 4) == []
        assert _publications(c, 5) == []
    finally:
        c.close()


def test_a_save_without_changes_publishes_the_same_diagnostics():
    c = Client()
    try:
        c.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
        c.notify("initialized", {})
        c.notify("textDocument/didOpen", {"textDocument": {
            "uri": URI, "languageId": "policylang", "version": 1, "text": BAD}})
        opened = c.diagnostics(1)
        time.sleep(0.1)
        c.notify("textDocument/didSave", {"textDocument": {"uri": URI}})
        assert c.diagnostics(1) == opened  # published again as it was
    finally:
        c.close()


@pytest.mark.parametrize("newline", ["\r", "\r\n"], ids=["lone CR", "CRLF"])
def test_lines_broken_by_cr_are_lines(client, newline):
    """LSP counts a lone `\\r` as a line break, as `policylang check` reads the file; every
    diagnostic was on line 0 before."""
    uri = URI.replace("demo.pol", f"cr{len(newline)}.pol")
    version = 9000 + len(newline)
    client.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "policylang", "version": version,
        "text": BAD.replace("\n", newline)}})
    found = client.diagnostics(version)
    assert sorted((d["code"], d["range"]["start"]["line"]) for d in found) == sorted([
        ("E402", _position(BAD, "loan_amont")["line"]),
        ("E202", _position(BAD, "lpr < 5万")["line"])])
    hover = client.request("textDocument/hover", {
        "textDocument": {"uri": uri}, "position": _position(BAD, "borrower", 1, 1)})
    assert hover is not None


# ── every request gets a reply ──


@pytest.mark.parametrize(("method", "params", "wrong"), [
    ("textDocument/hover", {"textDocument": {"uri": URI}, "position": {"line": -1, "character": 0}},
     "Position.line should be in range"),
    ("textDocument/definition",
     {"textDocument": {"uri": URI}, "position": {"line": 2**31, "character": 0}},
     "Position.line should be in range"),
    ("textDocument/completion",
     {"textDocument": {"uri": URI}, "position": {"line": 0, "character": -5}},
     "Position.character should be in range"),
    ("textDocument/hover", {"position": {"line": 0, "character": 0}},
     "required field missing @ $.params.textDocument"),
    ("textDocument/references",
     {"textDocument": {"uri": URI}, "position": {"line": 0, "character": 0}},
     "required field missing @ $.params.context"),
    ("textDocument/hover",
     {"textDocument": {"uri": URI}, "position": {"line": "one", "character": 0}},
     "$.params.position"),
    ("textDocument/documentSymbol", None, "$.params"),
    ("textDocument/formatting", [URI], "$.params"),
])
def test_a_request_with_invalid_params_gets_an_invalid_params_error(client, method, params,
                                                                     wrong):
    """pygls used to show "Invalid Params" in a window and never answer the request."""
    reply = client.reply(method, params)
    assert "result" not in reply
    assert reply["error"]["code"] == -32602
    message = reply["error"]["message"]
    assert message.startswith(f"{method}: invalid params: ") and wrong in message
    assert "Traceback" not in json.dumps(reply) and len(message) < 300
    shown = [m for m in client.notifications if m["method"] == "window/showMessage"]
    assert shown == []



# ── requests on documents the client never opened ──

_ASKED_OF_ANY_DOCUMENT = [
    ("textDocument/hover", {"position": {"line": 0, "character": 1}}),
    ("textDocument/definition", {"position": {"line": 0, "character": 1}}),
    ("textDocument/references", {"position": {"line": 0, "character": 1},
                                 "context": {"includeDeclaration": True}}),
    ("textDocument/completion", {"position": {"line": 0, "character": 1}}),
    ("textDocument/documentSymbol", {}),
    ("textDocument/formatting", {"options": {"tabSize": 2, "insertSpaces": True}}),
]


def test_a_file_never_opened_is_read_from_disk(client, tmp_path):
    """Clients ask about files they have not opened (e.g. one shown in a peek)."""
    path = tmp_path / "unopened.pol"
    path.write_text(GOOD, encoding="utf-8")
    uri = path.as_uri()
    published = len(client.notifications)
    hover = client.request("textDocument/hover", {
        "textDocument": {"uri": uri}, "position": _position(GOOD, "premium", 1, 1)})
    assert "**let** `premium`" in hover["contents"]["value"]
    definition = client.request("textDocument/definition", {
        "textDocument": {"uri": uri}, "position": _position(GOOD, "lpr", 1, 1)})
    assert definition["range"]["start"] == _position(GOOD, "lpr:")
    outline = client.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
    assert "premium" in {symbol["name"] for symbol in outline}
    # Read again at each request: a file changed on disk is not answered from its old text.
    path.write_text(GOOD.replace("premium", "fee"), encoding="utf-8")
    outline = client.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
    assert "fee" in {symbol["name"] for symbol in outline}
    assert "premium" not in {symbol["name"] for symbol in outline}
    # The client did not open it: no diagnostics are published for it.
    assert [m for m in client.notifications[published:]
            if m["params"].get("uri") == uri] == []


@pytest.mark.parametrize("method", ["textDocument/didChange", "textDocument/didSave"])
def test_a_change_to_a_document_never_opened_is_logged_not_shown(client, tmp_path, method):
    """LSP sends didChange and didSave for open documents only; pygls failed on one for
    another document with a KeyError (a FileNotFoundError for a save), and the client
    showed "Error in server" in a window. Now it is a line in the client's log; the change
    is ignored, and requests about the file still read it from disk."""
    path = tmp_path / "never-opened.pol"
    path.write_text(GOOD, encoding="utf-8")
    seen = len(client.notifications)
    for uri in (path.as_uri(), "file:///tmp/policylang-lsp-test/no-such-file.pol"):
        params = {"textDocument": {"uri": uri, "version": 7}, "contentChanges": [
            {"range": {"start": {"line": 0, "character": 0},
                       "end": {"line": 0, "character": 0}}, "text": "x"},
            {"text": BAD}]}
        client.notify(method, params if method.endswith("didChange")
                      else {"textDocument": {"uri": uri}})
    outline = client.request("textDocument/documentSymbol",
                             {"textDocument": {"uri": path.as_uri()}})
    assert "premium" in {symbol["name"] for symbol in outline}  # GOOD, from disk
    after = client.notifications[seen:]
    assert [m for m in after if m["method"] == "window/showMessage"] == []
    assert [m for m in after if m["method"] == "textDocument/publishDiagnostics"] == []
    logged = [m["params"] for m in after if m["method"] == "window/logMessage"]
    assert len(logged) == 2 and all(f"{method} for " in m["message"] and "not open" in
                                    m["message"] and m["type"] == 2 for m in logged)


@pytest.mark.parametrize("uri", ["file:///tmp/policylang-lsp-test/no-such-file.pol",
                                 "untitled:Untitled-1", "file:///tmp"],
                         ids=["missing file", "untitled", "a directory"])
@pytest.mark.parametrize(("method", "params"), _ASKED_OF_ANY_DOCUMENT,
                         ids=[method for method, _ in _ASKED_OF_ANY_DOCUMENT])
def test_a_document_neither_open_nor_on_disk_is_an_invalid_params_error(client, uri, method,
                                                                        params):
    """It was error -32603 with the server's Python traceback in `data`."""
    reply = client.reply(method, {"textDocument": {"uri": uri}, **params})
    assert reply.get("error", {}).get("code") == -32602, reply
    assert set(reply["error"]) <= {"code", "message"}  # no `data`: no traceback
    assert uri in reply["error"]["message"] and "Traceback" not in reply["error"]["message"]


# ── the same positions as `policylang check` ──

_TRUNCATED = {
    "no closing brace": GOOD[:GOOD.rindex("}")],
    "no closing brace, CRLF": GOOD[:GOOD.rindex("}")].replace("\n", "\r\n"),
    "blank lines at the end": GOOD[:GOOD.rindex("}")] + "\n\n",
    "only the header": 'policy p "政策" {\n',
    "only comments": "# 注释\n# 另一行\n",
    "cut mid-line": GOOD[:GOOD.index("rule rate_rule") + len("rule rate")],
    "spaces after the last newline": 'policy p "" {\n  input { x: money }\n   ',
    "empty": "",
}


def test_end_of_file_errors_are_where_check_puts_them(client, tmp_path):
    """E103 was on the last line break's line, one line above `policylang check`'s."""
    from typer.testing import CliRunner

    from policylang.cli import app

    files = []
    for k, text in enumerate(_TRUNCATED.values()):
        files.append(tmp_path / f"t{k}.pol")
        files[-1].write_bytes(text.encode("utf-8"))  # as is: CRLF stays CRLF
    output = CliRunner().invoke(app, ["check", *map(str, files)]).output
    at = {Path(file).name: {"line": int(line) - 1, "character": int(column) - 1}
          for file, line, column in re.findall(r"^(.*?):(\d+):(\d+): error\[E103\]",
                                               output, re.M)}
    assert len(at) == len(files), output
    expected, found = {}, {}
    for k, (name, text) in enumerate(_TRUNCATED.items()):
        version = 7000 + k
        client.notify("textDocument/didOpen", {"textDocument": {
            "uri": files[k].as_uri(), "languageId": "policylang", "version": version,
            "text": text}})
        (diagnostic,) = client.diagnostics(version)
        assert diagnostic["code"] == "E103"
        expected[name], found[name] = at[files[k].name], diagnostic["range"]["start"]
    assert found == expected


@pytest.mark.parametrize("separator", ["\f", "\u2028", "\x85"],
                         ids=["form feed", "line separator", "next line"])
def test_only_cr_and_lf_break_lines(client, separator):
    """LSP's lines break at `\\n`, `\\r\\n` and `\\r`, as the parser's; the server cut them
    at a form feed (a page break copied from a PDF) or a Unicode line separator too, and
    every column after one was read on the wrong line."""
    text = (BAD.replace("  param lpr", f"  # 第一页{separator}第二页\n  param lpr")
            .replace('"同期LPR"', f'"同期{separator}LPR"'))
    uri = URI.replace("demo.pol", f"separator{ord(separator)}.pol")
    version = 9100 + ord(separator) % 100
    client.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "policylang", "version": version, "text": text}})
    found = client.diagnostics(version)
    assert sorted((d["code"], d["range"]["start"], d["range"]["end"]) for d in found) == sorted([
        ("E402", _position(text, "loan_amont"), _position(text, "loan_amont", offset=10)),
        ("E202", _position(text, "lpr < 5万"), _position(text, "lpr < 5万", offset=8))])
    hover = client.request("textDocument/hover", {
        "textDocument": {"uri": uri}, "position": _position(text, "lpr <", offset=1)})
    assert "**param** `lpr`" in hover["contents"]["value"]
    outline = client.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
    (rule,) = [symbol for symbol in outline if symbol["name"] == "rate_rule"]
    assert rule["selectionRange"]["start"] == _position(text, "rate_rule")
    completion = client.request("textDocument/completion", {
        "textDocument": {"uri": uri}, "position": _position(text, "first_loan_loss.insurer",
                                                            offset=len("first_loan_loss."))})
    assert {item["label"] for item in completion["items"]} == {"bank", "insurer"}


@pytest.mark.parametrize("separator", ["\f", "\u2028", "\x85"],
                         ids=["form feed", "line separator", "next line"])
def test_edits_below_a_page_break_are_made_where_the_editor_made_them(client, separator):
    """didChange's ranges count lines at `\n`, `\r\n` and `\r` only. pygls made the edit
    on lines cut at a form feed or a Unicode line separator too: after one in a comment,
    typing in a Chinese line changed the line above, and the server's text was no longer
    the editor's (diagnostics for a text nobody sees, until the document was reopened)."""
    text = BAD.replace("  param lpr", f"  # 第一页{separator}第二页 😀\n  param lpr")
    uri = URI.replace("demo.pol", f"edited-after-{ord(separator)}.pol")
    client.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "policylang", "version": 1, "text": text}})
    assert {d["code"] for d in client.diagnostics(1)} == {"E402", "E202"}
    edits = [  # fix the misspelt name; then type in a Chinese line and delete across lines
        ("loan_amont", len("loan_amo"), 0, "u"),
        ('"同期LPR"', len('"同期'), 0, "贷款"),
        ("rule rate_rule: lpr < 5万", len("rule rate_rule: lpr < 5"), len("万\n  shares"),
         "%\n  shares"),
    ]
    for version, (needle, offset, length, new) in enumerate(edits, start=2):
        start = text.index(needle) + offset
        client.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": _position(text, needle, offset=offset),
                                          "end": _position(text, needle,
                                                           offset=offset + length)},
                                "text": new}]})
        text = text[:start] + new + text[start + length:]
        found = client.diagnostics(version)
    assert "同期贷款LPR" in text and "lpr < 5%\n  shares" in text
    assert found == []
    misformatted = {"textDocument": {"uri": uri}, "options": {"tabSize": 2,
                                                              "insertSpaces": True}}
    client.notify("textDocument/didChange", {
        "textDocument": {"uri": uri, "version": 9},
        "contentChanges": [{"range": {"start": _position(text, "  let premium"),
                                      "end": _position(text, "  let premium")},
                            "text": "   "}]})
    text = text.replace("  let premium", "     let premium")
    client.diagnostics(9)
    (edit,) = client.request("textDocument/formatting", misformatted)
    assert edit["newText"] == format_source(text, "demo.pol")


def _text_at(text: str, range_: dict) -> str:
    """The characters a range of the server (UTF-16 columns) covers in `text`."""
    lines = text.split("\n")

    def index(position: dict) -> int:
        line = lines[position["line"]]
        column = len(line.encode("utf-16-le")[:position["character"] * 2].decode("utf-16-le"))
        return sum(len(above) + 1 for above in lines[:position["line"]]) + column

    return text[index(range_["start"]):index(range_["end"])]


def test_answers_while_the_text_does_not_parse_are_about_the_text_in_the_editor(client):
    """Half-typed, the text does not parse and the server answers from the last text that
    did. It answered at that text's positions: with a line typed above, a hover over
    `overdue` showed the let on the line above it, and definitions, references and the
    outline pointed one line off, at other characters."""
    uri = URI.replace("demo.pol", "half-typed.pol")
    client.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "policylang", "version": 1, "text": GOOD}})
    assert client.diagnostics(1) == []
    typed = "  let 费率 = lpr *\n"  # not finished: the text does not parse
    at = GOOD.index("  input {")
    client.notify("textDocument/didChange", {
        "textDocument": {"uri": uri, "version": 2},
        "contentChanges": [{"range": {"start": _position(GOOD, "  input {"),
                                      "end": _position(GOOD, "  input {")}, "text": typed}]})
    text = GOOD[:at] + typed + GOOD[at:]
    assert [d["code"] for d in client.diagnostics(2)] == ["E102"]
    for needle, name in [("overdue)", "overdue"), ("lpr * 1亿", "lpr"),
                         ("first_loan_loss.insurer ==", "first_loan_loss"),
                         ("insurer == 900万", "insurer"), ("enterprise  loan", "enterprise")]:
        where = {"textDocument": {"uri": uri}, "position": _position(text, needle, offset=1)}
        hover = client.request("textDocument/hover", where)
        assert f"`{name}`" in hover["contents"]["value"] or f".{name}`" in hover[
            "contents"]["value"], (name, hover)
        assert _text_at(text, hover["range"]) == name
        definition = client.request("textDocument/definition", where)
        assert _text_at(text, definition["range"]) == name
        found = client.request("textDocument/references", {
            **where, "context": {"includeDeclaration": True}})
        assert len(found) >= 2 and {_text_at(text, r["range"]) for r in found} == {name}
    outline = client.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
    for symbol in outline:
        assert _text_at(text, symbol["selectionRange"]).strip('"') == symbol["name"]


# ── odd documents and positions: every handler answers, and sensibly ──

_ODD_DOCUMENTS = {
    "empty": "",
    "only comments": "# 注释\n# 另一行\n",
    "only the header": 'policy p "政策" {\n',
    "blank lines": "\n\n  \n",
    "no final line break": GOOD.rstrip("\n"),
    "a dot at the very end": GOOD[:GOOD.rindex("}")] + "  let z = first_loan_loss.",
}


def _odd_positions(text: str) -> dict[str, dict]:
    lines = text.split("\n")
    return {"start": {"line": 0, "character": 0},
            "past the end of the first line": {"line": 0, "character": 10**6},
            "past the end of the last line": {"line": len(lines) - 1, "character": 10**6},
            "past the last line": {"line": len(lines) + 5, "character": 0}}


@pytest.mark.parametrize(("method", "params"), _ASKED_OF_ANY_DOCUMENT,
                         ids=[method for method, _ in _ASKED_OF_ANY_DOCUMENT])
@pytest.mark.parametrize("name", _ODD_DOCUMENTS)
def test_every_handler_answers_odd_documents_and_positions(client, name, method, params):
    text = _ODD_DOCUMENTS[name]
    uri = URI.replace("demo.pol", f"odd-{list(_ODD_DOCUMENTS).index(name)}-{method[13:]}.pol")
    client.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "policylang", "version": 1, "text": text}})
    client.diagnostics(1)
    positions = _odd_positions(text) if "position" in params else {"": None}
    for where, position in positions.items():
        asked = {**params, "textDocument": {"uri": uri}}
        if position is not None:
            asked["position"] = position
        reply = client.reply(method, asked)
        assert "error" not in reply, (where, reply)
        result = reply["result"]
        if where == "past the last line":  # not in the document the server has
            assert result in (None, [], {"isIncomplete": False, "items": []}), where
        elif method == "textDocument/completion":
            assert isinstance(result["items"], list), where
    client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


def test_completion_past_the_end_of_the_last_line_completes_what_is_before_it(client):
    """LSP: a character past the end of a line is its end; pygls took the last line's
    end one character short, before the `.`, and offered every name instead of parts."""
    text = _ODD_DOCUMENTS["a dot at the very end"]
    uri = URI.replace("demo.pol", "dot-at-the-end.pol")
    client.notify("textDocument/didOpen", {"textDocument": {
        "uri": uri, "languageId": "policylang", "version": 1, "text": GOOD}})
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                             "contentChanges": [{"text": text}]})
    client.diagnostics(2)
    result = client.request("textDocument/completion", {
        "textDocument": {"uri": uri},
        "position": {"line": text.count("\n"), "character": 10**6}})
    assert {item["label"] for item in result["items"]} == {"bank", "insurer"}


def test_a_bug_in_a_handler_is_a_short_error_without_a_traceback():
    """What pygls replies to a handler's exception is -32603 with the traceback in `data`;
    the client shows it to the user. The traceback goes to the server's log instead."""
    from lsprotocol import types as lsp
    from pygls.exceptions import JsonRpcInternalError

    from policylang import lsp as server

    class Broken:  # a server whose every lookup fails as a bug would
        def lookup(self, uri: str):
            raise KeyError(uri)

        document = lookup

    where = {"text_document": lsp.TextDocumentIdentifier(uri=URI),
             "position": lsp.Position(line=0, character=0)}
    for handler, params in [
            (server.hover, lsp.HoverParams(**where)),
            (server.definition, lsp.DefinitionParams(**where)),
            (server.references, lsp.ReferenceParams(
                **where, context=lsp.ReferenceContext(include_declaration=True))),
            (server.completion, lsp.CompletionParams(**where)),
            (server.document_symbols, lsp.DocumentSymbolParams(where["text_document"])),
            (server.formatting, lsp.DocumentFormattingParams(
                where["text_document"], lsp.FormattingOptions(tab_size=2, insert_spaces=True)))]:
        with pytest.raises(JsonRpcInternalError) as caught:
            handler(Broken(), params)
        assert caught.value.data is None
        assert caught.value.message == (f"policylang: {handler.__name__} failed: KeyError: "
                                        f"'{URI}' (the traceback is in the server's log)")


def test_a_request_after_shutdown_is_an_invalid_request_error():
    """LSP: requests after `shutdown` "should error with InvalidRequest"; pygls dropped them
    (a client with a hover in flight waited for it until it gave up on the server)."""
    import threading

    c = Client()
    c.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
    c.notify("initialized", {})
    c.request("shutdown", None)  # type: ignore[arg-type]
    hung = threading.Timer(20, c.process.kill)  # no reply: fail, not hang
    hung.start()
    try:
        reply = c.reply("textDocument/hover", {
            "textDocument": {"uri": URI}, "position": {"line": 0, "character": 0}})
    finally:
        hung.cancel()
    assert reply["error"]["code"] == -32600 and "shut" in reply["error"]["message"]
    c.notify("exit", None)  # type: ignore[arg-type]
    assert c.process.wait(timeout=10) == 0
    c.log.close()
