"""The language server: `policylang lsp`, LSP over stdio (pygls).

Diagnostics as you type (debounced: an edit after a quiet spell is analysed at once, a
burst of edits once, DEBOUNCE_SECONDS after its last), hover, go-to-definition,
find-references, completion, document symbols and formatting. Everything it knows comes
from `lsp_index.analyze`, i.e. the compiler's own parser and checker; this module only
translates between that and the protocol, including columns (`lsp_text`): the index
counts code points, the client usually UTF-16 units.

After an edit, diagnostics are published in two steps for the same version: first the
parse and check errors (with each failing test block's last result, moved to where that
test now is), then, once the test blocks have run on the new text, the same list with
their fresh results, if those differ. Opening a file publishes once, with the test
results. Each document keeps an `IncrementalParser`, so an edit re-parses only the
declarations it touched.

Requests about a file the client has not opened are answered from the file on disk (see
`PolicyServer.lookup`); a didChange or didSave about one is logged and ignored (see
`PolicyServer.is_open`). A request that cannot be answered (params pygls cannot read, a
document neither open nor on disk) gets error -32602 (InvalidParams), not silence or a
traceback; a bug in a handler error -32603 with one line (see `_answers`).
"""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import cattrs
from cattrs.v import format_exception
from lsprotocol import types as lsp
from pygls.exceptions import (
    FeatureNotificationError,
    JsonRpcException,
    JsonRpcInternalError,
    JsonRpcInvalidParams,
)
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import RPCRequest
from pygls.protocol.language_server import lsp_method
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument

from policylang import __version__
from policylang.diagnostics import Diagnostic, PolicyError
from policylang.formatter import by_lf, format_source
from policylang.highlight import BUILTIN_FUNCTIONS, KEYWORDS
from policylang.lsp_incremental import IncrementalParser
from policylang.lsp_index import (
    Analysis,
    Failing,
    analyze,
    carried_to,
    failing_tests,
    moved_to,
)
from policylang.lsp_text import Text, apply_change
from policylang.messages import title

DEBOUNCE_SECONDS = 0.03

_SYMBOL_KINDS = {
    "input": lsp.SymbolKind.Field, "param": lsp.SymbolKind.Constant,
    "let": lsp.SymbolKind.Variable, "rule": lsp.SymbolKind.Boolean,
    "limit": lsp.SymbolKind.Operator, "enum": lsp.SymbolKind.Enum,
    "member": lsp.SymbolKind.EnumMember, "shares": lsp.SymbolKind.Struct,
    "waterfall": lsp.SymbolKind.Struct, "part": lsp.SymbolKind.Property,
    "test": lsp.SymbolKind.Method, "monitor": lsp.SymbolKind.Event,
    "budget": lsp.SymbolKind.Event,
}
_COMPLETION_KINDS = {
    "input": lsp.CompletionItemKind.Field, "param": lsp.CompletionItemKind.Constant,
    "let": lsp.CompletionItemKind.Variable, "rule": lsp.CompletionItemKind.Reference,
    "limit": lsp.CompletionItemKind.Reference, "enum": lsp.CompletionItemKind.Enum,
    "member": lsp.CompletionItemKind.EnumMember, "shares": lsp.CompletionItemKind.Struct,
    "waterfall": lsp.CompletionItemKind.Struct, "part": lsp.CompletionItemKind.Property,
    "monitor": lsp.CompletionItemKind.Event, "budget": lsp.CompletionItemKind.Event,
}


@dataclass(frozen=True, slots=True)
class _Unreadable:
    """A request whose params are not what its method takes."""

    id: int | str
    method: str
    reason: str


class _Protocol(LanguageServerProtocol):
    """pygls's protocol, except that a request whose params it cannot read gets a reply.

    pygls reads a message into its method's params type while decoding the JSON. When that
    fails (a position on line -1 or 2**31, no textDocument, params null, ...) the error
    escapes the decoding, before any handler: pygls showed "Invalid Params" in a window and
    sent no reply, so a client waiting for that request's id waited forever. Such a request
    is decoded as an `_Unreadable` instead and answered with error -32602 (InvalidParams).
    A request after `shutdown`, which pygls dropped too, is answered with -32600."""

    def structure_message(self, data: dict):
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if "method" not in data or data.get("id") is None:
                raise  # a notification or a response: nobody waits for a reply
            return _Unreadable(data["id"], str(data["method"]), _what_is_wrong(error))

    def handle_message(self, message) -> None:
        if isinstance(message, _Unreadable):
            self._send_response(message.id, error=lsp.ResponseError(
                code=lsp.ErrorCodes.InvalidParams,
                message=f"{message.method}: invalid params: {message.reason}"))
            return
        if self._shutdown and isinstance(message, RPCRequest):
            # LSP: a request after `shutdown` "should error with InvalidRequest"; pygls
            # dropped it without a reply.
            self._send_response(message.id, error=lsp.ResponseError(
                code=lsp.ErrorCodes.InvalidRequest,
                message=f"{message.method}: the server is shutting down"))
            return
        super().handle_message(message)

    @lsp_method(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: lsp.DidChangeTextDocumentParams):
        """pygls's, except for a document the client has not opened (see `is_open`): pygls
        failed with a KeyError, which the client showed the drafter in an error window;
        and with the edits made on lines as LSP counts them."""
        if not self._server.is_open(params.text_document.uri, lsp.TEXT_DOCUMENT_DID_CHANGE):
            return
        # Not pygls's `update_text_document`: it made an edit on the wrong line after a form
        # feed or a \u2028 (see lsp_text).
        document = self.workspace.get_text_document(params.text_document.uri)
        for change in params.content_changes:
            apply_change(document, change)
        document.version = params.text_document.version
        if (handler := self.fm.features.get(lsp.TEXT_DOCUMENT_DID_CHANGE)) is not None:
            yield handler, (params,), None


def _what_is_wrong(error: JsonRpcException) -> str:
    """E.g. "required field missing @ $.params.textDocument", from the decoding's error."""
    cause = error.__cause__
    if not isinstance(cause, cattrs.ClassValidationError):
        return f"{type(cause).__name__}: {cause}" if cause is not None else error.message

    def describe(exc: BaseException, type_: type | None) -> str:
        if isinstance(exc, ValueError) and type_ is None:  # lsprotocol's validators say why
            return str(exc).rstrip(".")
        return format_exception(exc, type_)

    # cattrs names the fields as lsprotocol's classes do (text_document), not as the JSON.
    return "; ".join(re.sub(r"_([a-z])", lambda m: m.group(1).upper(), line)
                     for line in cattrs.transform_error(cause, format_exception=describe))


class PolicyServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("policylang", __version__, protocol_cls=_Protocol)
        self.analyses: dict[str, Analysis] = {}
        self.last_indexed: dict[str, Analysis] = {}  # the last analysis that parsed
        self.pending: dict[str, asyncio.Task] = {}
        self.last_change: dict[str, float] = {}  # monotonic time of the latest edit
        self.last_done: dict[str, float] = {}  # when the latest analysis ended
        self.parsers: dict[str, IncrementalParser] = {}
        self.testing: dict[str, asyncio.Task] = {}  # test blocks still to run on a version
        self.failing: dict[str, Failing] = {}  # the last test results
        self.published: dict[str, tuple[str, list[Diagnostic]]] = {}  # text, all diagnostics
        self.unopened: dict[str, tuple[str, Analysis]] = {}  # read from disk: text, analysis
        self.carried: dict[str, tuple[Analysis, Analysis]] = {}  # last parsed, moved to now

    def document(self, uri: str) -> TextDocument:
        """The open document, else the file on disk (InvalidParams if there is none)."""
        opened = self.workspace.text_documents.get(unquote(uri))  # pygls's keys are unquoted
        return opened if opened is not None else _from_disk(uri, self.workspace)

    def is_open(self, uri: str, method: str) -> bool:
        """Whether the client has opened `uri`. LSP sends didChange and didSave only for
        open documents; one about another document is the client's mistake, which the
        drafter can do nothing about: it goes to the client's log (window/logMessage) and
        is otherwise ignored. Requests about the document read it from disk, as before."""
        if unquote(uri) in self.workspace.text_documents:  # pygls's keys are unquoted
            return True
        self.window_log_message(lsp.LogMessageParams(
            type=lsp.MessageType.Warning,
            message=f"policylang: {method} for {uri}, which is not open (no didOpen, or "
                    "closed since): ignored"))
        return False

    def lookup(self, uri: str) -> tuple[TextDocument, Analysis]:
        """The document a request is about, and its analysis.

        Clients ask about files they have not opened (a definition shown in a peek, a
        symbol search over the workspace). Such a file is read at each request, so that a
        change on disk is seen, and analysed again when its text changed; its diagnostics
        are not published (no editor shows it), and only the analyses of the last
        _UNOPENED_KEPT such files are kept."""
        document = self.document(uri)
        if document.version is not None:  # opened: didOpen gives a version, disk none
            return document, self.analysis(uri)
        known = self.unopened.pop(uri, None)
        if known is None or known[0] != document.source:
            known = (document.source, analyze(document.source, document.path, run_tests=False))
        self.unopened[uri] = known  # the last asked about last: the oldest goes first
        while len(self.unopened) > _UNOPENED_KEPT:
            del self.unopened[next(iter(self.unopened))]
        return document, known[1]

    def analysis(self, uri: str) -> Analysis:
        """The analysis of the current text; else (the text does not parse, or an edit
        waits for its analysis) the last one that parsed, moved onto the current text
        (`carried_to`)."""
        if uri not in self.analyses:
            self.refresh(uri)
        current = self.analyses[uri]
        source = by_lf(self.workspace.get_text_document(uri).source)
        parsed = current if current.ast is not None else self.last_indexed.get(uri)
        if parsed is None or parsed.source == source:
            return current if parsed is None else parsed
        carried = self.carried.get(uri)
        if carried is None or carried[0] is not parsed or carried[1].source != source:
            carried = self.carried[uri] = (parsed, carried_to(parsed, source))
        return carried[1]

    def refresh(self, uri: str, with_tests: bool = False) -> None:
        """Analyse the document and publish its diagnostics.

        The parse and check diagnostics go out at once; the test blocks run after, in a
        task of their own (cancelled if another edit comes first), unless `with_tests`
        asks for everything in one publication (on opening a file)."""
        self.cancel_tests(uri)
        document = self.workspace.get_text_document(uri)
        source = by_lf(document.source)
        done = self.published.get(uri)
        if done is not None and done[0] == source and uri in self.analyses:
            self.publish(document, done[1])  # e.g. a save: nothing changed since
            self.last_done[uri] = time.monotonic()
            return
        self.published.pop(uri, None)
        parser = self.parsers.setdefault(uri, IncrementalParser())
        found = analyze(source, to_fs_path(uri) or uri, run_tests=False, parser=parser)
        self.analyses[uri] = found
        if found.ast is not None:
            self.last_indexed[uri] = found
        policy = found.policy
        if policy is None or not policy.tests:
            self.finish(uri, document, source, found.diagnostics, None)
        elif with_tests:
            self.finish(uri, document, source, found.diagnostics, failing_tests(policy))
        else:
            shown = found.diagnostics + moved_to(self.failing.get(uri, []), policy)
            self.publish(document, shown)
            self.testing[uri] = asyncio.get_running_loop().create_task(
                self.run_tests(uri, document, source, found, shown))
        self.last_done[uri] = time.monotonic()

    async def run_tests(self, uri: str, document: TextDocument, source: str,
                        found: Analysis, shown: list[Diagnostic]) -> None:
        """The second publication: the test blocks' results on this version."""
        await asyncio.sleep(0)  # an edit already queued cancels this instead
        assert found.policy is not None
        self.testing.pop(uri, None)
        try:
            failing = failing_tests(found.policy)
        except Exception as error:  # a bug: say so, as pygls does for a failing handler
            logging.getLogger(__name__).exception("running the test blocks of %s", uri)
            self.report_server_error(error, FeatureNotificationError)
            return
        self.finish(uri, document, source, found.diagnostics, failing, shown)
        self.last_done[uri] = time.monotonic()

    def finish(self, uri: str, document: TextDocument, source: str,
               diagnostics: list[Diagnostic], failing: Failing | None,
               shown: list[Diagnostic] | None = None) -> None:
        """Publish the complete diagnostics of `source` (unless already `shown`)."""
        if failing is not None:
            self.failing[uri] = failing
        complete = diagnostics + [d for _, d in failing or ()]
        if complete != shown:
            self.publish(document, complete)
        self.published[uri] = (source, complete)
        # The checker and the interpreter leave reference cycles behind (~1,500 objects an
        # edit). Collected now, after the diagnostics went out, they cost a few ms; left to
        # the automatic collector they piled up into 10–30 ms collections in the middle of
        # a later analysis (see warm_up for the heap that is never scanned).
        gc.collect()

    def cancel_tests(self, uri: str) -> None:
        task = self.testing.pop(uri, None)
        if task is not None:
            task.cancel()

    def publish(self, document: TextDocument, diagnostics: list[Diagnostic]) -> None:
        text = Text(document)
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
            uri=document.uri, diagnostics=[_diagnostic(text, d) for d in diagnostics],
            version=document.version))

    def schedule(self, uri: str) -> None:
        """Analyse now after a quiet spell; coalesce a burst of edits into one analysis.

        An edit that comes DEBOUNCE_SECONDS or more after the previous edit and after the
        last analysis ended is analysed at once (a drafter's keystroke gets diagnostics in
        the time of one analysis). Edits closer together than that — a paste, a
        multi-cursor edit, edits queued while an analysis ran — wait until DEBOUNCE_SECONDS
        pass without another, and only the last text is analysed.
        """
        previous = self.pending.pop(uri, None)
        if previous is not None:
            previous.cancel()
        self.cancel_tests(uri)  # the tests of a text that is gone
        now = time.monotonic()
        quiet_since = max(self.last_change.get(uri, 0.0), self.last_done.get(uri, 0.0))
        self.last_change[uri] = now
        if previous is None and now - quiet_since >= DEBOUNCE_SECONDS:
            self.refresh(uri)
            self.last_done[uri] = time.monotonic()
            return

        async def later() -> None:
            await asyncio.sleep(DEBOUNCE_SECONDS)
            self.pending.pop(uri, None)
            self.refresh(uri)
            self.last_done[uri] = time.monotonic()

        self.pending[uri] = asyncio.get_running_loop().create_task(later())


_UNOPENED_KEPT = 16  # analyses of unopened files kept for the next request about them


def _from_disk(uri: str, workspace) -> TextDocument:
    """A file the client has not opened, read as `policylang check` reads it."""
    path = to_fs_path(uri)
    if path is None:  # pygls would read an `untitled:x` URI as the file x in the cwd
        raise JsonRpcInvalidParams(f"{uri} is not open, and not a file to read")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise JsonRpcInvalidParams(f"{uri} is not open, and there is no such file") from None
    except UnicodeDecodeError:
        raise JsonRpcInvalidParams(f"{uri} is not open, and the file is not UTF-8") from None
    except OSError as error:
        raise JsonRpcInvalidParams(
            f"{uri} is not open, and the file cannot be read: {error.strerror}") from None
    return TextDocument(uri, text, position_codec=workspace.position_codec)


server = PolicyServer()


def _answers(handler):
    """A request handler whose exceptions, bugs all, are error -32603 in one line.

    pygls replies to a handler's exception with its Python traceback in the error's
    `data`, which clients show to the user; the traceback goes to the server's log
    (stderr, the editor's output panel) instead."""

    @functools.wraps(handler)
    def answer(ls: PolicyServer, params):
        try:
            return handler(ls, params)
        except JsonRpcException:  # already an error reply (InvalidParams, cancelled, ...)
            raise
        except Exception as error:
            logging.getLogger(__name__).exception("%s failed", handler.__name__)
            raise JsonRpcInternalError(
                f"policylang: {handler.__name__} failed: {type(error).__name__}: {error} "
                "(the traceback is in the server's log)") from None

    return answer


def _diagnostic(text: Text, d) -> lsp.Diagnostic:
    from policylang.lsp_index import to_range

    message = d.message + "".join(f"\nnote: {note}" for note in d.notes)
    return lsp.Diagnostic(
        range=text.range(to_range(d.span)), message=message, code=d.code,
        source="policylang", severity=lsp.DiagnosticSeverity.Error if d.severity == "error"
        else lsp.DiagnosticSeverity.Warning,
        code_description=None, data={"title": title(d.code)})


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: PolicyServer, params: lsp.DidOpenTextDocumentParams) -> None:
    ls.unopened.pop(params.text_document.uri, None)
    ls.refresh(params.text_document.uri, with_tests=True)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: PolicyServer, params: lsp.DidChangeTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: PolicyServer, params: lsp.DidSaveTextDocumentParams) -> None:
    if ls.is_open(params.text_document.uri, lsp.TEXT_DOCUMENT_DID_SAVE):
        ls.schedule(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: PolicyServer, params: lsp.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    task = ls.pending.pop(uri, None)
    if task is not None:
        task.cancel()
    ls.cancel_tests(uri)
    for table in (ls.analyses, ls.last_indexed, ls.last_change, ls.last_done, ls.parsers,
                  ls.failing, ls.published, ls.carried):
        table.pop(uri, None)
    ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
@_answers
def hover(ls: PolicyServer, params: lsp.HoverParams) -> lsp.Hover | None:
    document, found = ls.lookup(params.text_document.uri)
    text = Text(document)
    cursor = text.cursor(params.position)
    key = found.at(*cursor) if cursor is not None else None
    if key is None or key not in found.definitions:
        return None
    line, column = cursor
    under = next((r.range for r in found.references if r.range.contains(line, column)),
                 found.definitions[key].range)
    return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown,
                                                value=found.definitions[key].hover),
                     range=text.range(under))


@server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
@_answers
def definition(ls: PolicyServer, params: lsp.DefinitionParams) -> lsp.Location | None:
    uri = params.text_document.uri
    document, found = ls.lookup(uri)
    text = Text(document)
    cursor = text.cursor(params.position)
    key = found.at(*cursor) if cursor is not None else None
    if key is None or key not in found.definitions:
        return None
    return lsp.Location(uri=uri, range=text.range(found.definitions[key].range))


@server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
@_answers
def references(ls: PolicyServer, params: lsp.ReferenceParams) -> list[lsp.Location]:
    uri = params.text_document.uri
    document, found = ls.lookup(uri)
    text = Text(document)
    cursor = text.cursor(params.position)
    key = found.at(*cursor) if cursor is not None else None
    if key is None:
        return []
    ranges = found.uses(key)
    if params.context.include_declaration and key in found.definitions:
        ranges = [found.definitions[key].range, *ranges]
    return [lsp.Location(uri=uri, range=text.range(r)) for r in ranges]


@server.feature(lsp.TEXT_DOCUMENT_COMPLETION,
                lsp.CompletionOptions(trigger_characters=["."]))
@_answers
def completion(ls: PolicyServer, params: lsp.CompletionParams) -> lsp.CompletionList:
    uri = params.text_document.uri
    document, found = ls.lookup(uri)
    text = Text(document)
    cursor = text.cursor(params.position)
    items: list[lsp.CompletionItem] = []
    if cursor is None:
        return lsp.CompletionList(is_incomplete=False, items=items)
    line, column = cursor
    qualified = re.search(r"(\w+)\.\w*$", text.lines[line][:column])
    if qualified:  # `overdue.` → its parts; `borrower_kind.` → its members
        base = qualified.group(1)
        for d in found.definitions.values():
            if d.kind in ("part", "member") and d.key[1] == base:
                items.append(lsp.CompletionItem(label=d.name, kind=_COMPLETION_KINDS[d.kind],
                                                detail=f"{d.kind} of {base}"))
        return lsp.CompletionList(is_incomplete=False, items=items)
    for d in found.definitions.values():
        if d.kind in ("part", "test"):
            continue
        items.append(lsp.CompletionItem(
            label=d.name, kind=_COMPLETION_KINDS[d.kind], detail=d.kind,
            documentation=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=d.hover)))
    items += [lsp.CompletionItem(label=word, kind=lsp.CompletionItemKind.Keyword)
              for word in KEYWORDS]
    items += [lsp.CompletionItem(label=func, kind=lsp.CompletionItemKind.Function,
                                 insert_text=f"{func}(")
              for func in BUILTIN_FUNCTIONS]
    return lsp.CompletionList(is_incomplete=False, items=items)


@server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
@_answers
def document_symbols(ls: PolicyServer, params: lsp.DocumentSymbolParams
                     ) -> list[lsp.DocumentSymbol]:
    uri = params.text_document.uri
    document, found = ls.lookup(uri)
    if found.ast is None:
        return []
    text = Text(document)
    top: list[lsp.DocumentSymbol] = []
    children: dict[tuple[str, ...], list[lsp.DocumentSymbol]] = {}
    for d in found.definitions.values():
        symbol = lsp.DocumentSymbol(
            name=d.name, detail=d.kind, kind=_SYMBOL_KINDS[d.kind],
            range=text.range(d.full_range), selection_range=text.range(d.range), children=[])
        if d.kind in ("member", "part"):
            children.setdefault(("name", d.key[1]), []).append(symbol)
        else:
            top.append(symbol)
            children[d.key] = symbol.children  # type: ignore[assignment]
    return top


@server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
@_answers
def formatting(ls: PolicyServer, params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit]:
    document = ls.document(params.text_document.uri)
    try:  # the document's line breaks kept: a CRLF file stays CRLF
        formatted = format_source(document.source, document.path or document.uri)
    except PolicyError as error:  # a file that does not parse is left alone
        ls.window_show_message(lsp.ShowMessageParams(
            type=lsp.MessageType.Warning,
            message=f"policylang fmt: not formatted — {error.diagnostics[0].headline()}"))
        return []
    if formatted == document.source:
        return []
    end = Text(document).end()
    return [lsp.TextEdit(range=lsp.Range(start=lsp.Position(line=0, character=0), end=end),
                         new_text=formatted)]


# A small valid policy and a mistake: analysing them loads the grammar, the checker, the
# interpreter and the parser's table of known mistakes before the first document.
_WARM_UP = ('policy warm_up "" {\n  input { x: money }\n  rule r: x > 0元\n'
            '  test "t" { given { x: 1元 } expect eligible }\n}\n',
            'policy warm_up "" { limit cap x <= 1 }')


def warm_up() -> None:
    """Load what every analysis uses, then keep it out of the cycle collector's way.

    `gc.freeze()` moves the objects alive now (modules, the grammar's parse tables, ...)
    to a generation the collector never scans. Without it each automatic full collection
    walked them all (~80,000 objects: ~50 ms of CPU, 80–300 ms of wall time on a busy
    machine) in the middle of an analysis, which made most of the slowest diagnostics.
    What an analysis allocates is freed by reference counting as before, and its cycles
    by `finish`'s collection."""
    for text in _WARM_UP:
        analyze(text, "<warm-up>").definitions  # noqa: B018 (builds the index)
    gc.collect()
    gc.freeze()


def serve() -> None:
    """Run the server on stdin/stdout until the client says exit."""
    warm_up()
    server.start_io()
