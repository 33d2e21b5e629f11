"""Render the generated parts of the API reference in docs/ from the code.

The pages are hand-written Markdown with generated blocks between two markers::

    <!-- gen:options T -->      the options of one entry point (letters: nodetls._optdoc)
    <!-- gen:errors -->         every error code the library raises, with its class
    <!-- gen:constants -->      nodetls.constants
    <!-- gen:members nodetls.Server -->   the public members a class defines, first docstring line
    ...generated text...
    <!-- /gen -->

``python docs/gen_reference.py`` rewrites the blocks; ``--check`` only reports stale pages and
exits 1 (tests/test_reference_docs.py runs it, so a committed page never drifts from the code).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import re
import sys
import types
from pathlib import Path
from typing import Any

DOCS = Path(__file__).resolve().parent
SRC = DOCS.parent / "src" / "nodetls"
BLOCK = re.compile(r"(<!-- gen:(?P<what>[a-z]+)(?: (?P<arg>[^ ]+))? -->\n)(?P<body>.*?)(<!-- /gen -->)",
                   re.S)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def options(where: str) -> str:
    from nodetls import _optdoc

    return _optdoc.markdown_table(where)


def _codes_in_source() -> dict[str, set[str]]:
    """Every ``ERR_*`` string literal in src/ -> the modules it appears in."""
    found: dict[str, set[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        module = ".".join(path.relative_to(SRC.parent).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and re.fullmatch(r"ERR_[A-Z0-9_]*[A-Z0-9]", node.value):
                found.setdefault(node.value, set()).add(module)
    return found


_ERR = re.compile(r"ERR_[A-Z0-9_]*[A-Z0-9]")
#: Class defaults that are no code of their own (the error's code replaces them).
_PLACEHOLDERS = {"ERR_UNKNOWN", "ERR_SSL_UNKNOWN"}


def _codes_of(expr: ast.AST | None, scope: ast.AST, module: ast.Module) -> set[str]:
    """The ``ERR_*`` codes a code argument can be: a literal; a name assigned such literals in
    the enclosing function (else the module); ``TABLE[...]`` / ``TABLE.get(..., default)`` of a
    module-level dict of codes; else none (unresolved)."""
    if expr is None:
        return set()
    if isinstance(expr, ast.Constant):
        return {expr.value} if isinstance(expr.value, str) and _ERR.fullmatch(expr.value) else set()
    if isinstance(expr, ast.Name):
        assigned = [node for node in (ast.walk(scope) if scope is not module else module.body)
                    if isinstance(node, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == expr.id for t in node.targets)]
        if not assigned and scope is not module:  # (a module-level constant)
            return _codes_of(expr, module, module)
        return {c for node in assigned for c in _literals(node.value)}
    table: ast.AST | None = None
    extra: set[str] = set()
    if isinstance(expr, ast.Subscript):
        table = expr.value
    elif isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) \
            and expr.func.attr == "get":
        table = expr.func.value
        extra = {c for a in expr.args[1:] for c in _literals(a)}
    if isinstance(table, ast.Name):
        for node in module.body:
            target = node.target if isinstance(node, ast.AnnAssign) else (
                node.targets[0] if isinstance(node, ast.Assign) else None)
            if isinstance(target, ast.Name) and target.id == table.id \
                    and isinstance(node.value, ast.Dict):  # type: ignore[union-attr]
                return extra | {c for v in node.value.values  # type: ignore[union-attr]
                                for c in _literals(v)}
    return set()


def _literals(expr: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(expr) if isinstance(n, ast.Constant)
            and isinstance(n.value, str) and _ERR.fullmatch(n.value)}


def _code_argument(fn: object, call: ast.Call) -> ast.AST | None:
    """The expression ``call`` passes as ``fn``'s ``code`` parameter (None when it has none)."""
    try:
        sig = inspect.signature(fn)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if "code" not in sig.parameters:
        return None
    if any(isinstance(a, ast.Starred) for a in call.args):
        return None
    try:
        bound = sig.bind_partial(*call.args, **{k.arg: k.value for k in call.keywords if k.arg})
    except TypeError:
        return None
    return bound.arguments.get("code")  # type: ignore[no-any-return]


def _resolve(namespace: object, func: ast.AST, local: dict[str, object] | None = None) -> object:
    """What the called name ``func`` (``Name`` / ``a.b.c``) is in the module's namespace, or
    among the names the module imports inside its functions (``local``)."""
    if isinstance(func, ast.Name):
        found = getattr(namespace, func.id, None)
        return found if found is not None or local is None else local.get(func.id)
    if isinstance(func, ast.Attribute):
        owner = _resolve(namespace, func.value, local)
        return None if owner is None else getattr(owner, func.attr, None)
    return None


def _raised_classes() -> dict[str, set[str]]:
    """Every ``ERR_*`` code -> the classes the library makes it with, from the source: the
    class ``node_error(code)`` returns; ``SomeError(..., code)`` (the argument bound to the
    class's ``code`` parameter); a function whose return annotation is an error class
    (``context_error(..., code=...)``); ``super().__init__(message, code)`` in an error class;
    an error class's own ``code = ...``."""

    found: dict[str, set[str]] = {}

    def add(codes: set[str], cls: str) -> None:
        for code in codes - _PLACEHOLDERS:
            found.setdefault(code, set()).add(cls)

    for path in sorted(SRC.rglob("*.py")):
        name = ".".join(path.relative_to(SRC.parent).with_suffix("").parts).removesuffix(
            ".__init__")
        source = path.read_text()
        if _ERR.search(source):
            _scan(path, name, ast.parse(source, str(path)), add)
    return found


def _scan(path: Path, name: str, tree: ast.Module, add: Any) -> None:
    """:func:`_raised_classes` for the module ``name`` (``tree``): ``add(codes, class)``."""
    from nodetls import errors as err

    module = importlib.import_module(name)
    local: dict[str, object] = {}  # (``from ..errors import TLSError`` in a function)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            package = name if path.name == "__init__.py" else name.rpartition(".")[0]
            source_module = importlib.import_module(importlib.util.resolve_name(
                "." * node.level + (node.module or ""), package))
            for alias in node.names:
                local.setdefault(alias.asname or alias.name,
                                 getattr(source_module, alias.name, None))

    def visit(node: ast.AST, scope: ast.AST, owner: type | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                cls = getattr(module, child.name, None)
                is_error = inspect.isclass(cls) and issubclass(cls, err.NodeError)
                if is_error:
                    for stmt in child.body:
                        if isinstance(stmt, ast.Assign | ast.AnnAssign) and any(
                                isinstance(t, ast.Name) and t.id == "code" for t in
                                (stmt.targets if isinstance(stmt, ast.Assign)
                                 else [stmt.target])) and stmt.value is not None:
                            add(_literals(stmt.value), child.name)
                visit(child, scope, cls if is_error else None)
                continue
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, child, owner)
                continue
            if isinstance(child, ast.Call):
                _call(child, scope, owner)
            visit(child, scope, owner)

    def _call(call: ast.Call, scope: ast.AST, owner: type | None) -> None:
        func = call.func
        if isinstance(func, ast.Attribute | ast.Name) and \
                (func.attr if isinstance(func, ast.Attribute) else func.id) == "node_error":
            expr = call.args[0] if call.args else None
            for code in _codes_of(expr, scope, tree):
                add({code}, type(err.node_error(code)).__name__)
            return
        if owner is not None and isinstance(func, ast.Attribute) and func.attr == "__init__" \
                and isinstance(func.value, ast.Call) and isinstance(func.value.func, ast.Name) \
                and func.value.func.id == "super":
            base = owner.__mro__[1]
            expr = _code_argument(base.__init__, ast.Call(  # (self bound)
                func=func, args=[ast.Constant(None), *call.args], keywords=call.keywords))
            add(_codes_of(expr, scope, tree), owner.__name__)
            return
        target = _resolve(module, func, local)
        if inspect.isclass(target) and issubclass(target, err.NodeError):
            add(_codes_of(_code_argument(target, call), scope, tree), target.__name__)
        elif inspect.isfunction(target):
            made = inspect.signature(target).return_annotation
            if isinstance(made, str):
                made = getattr(inspect.getmodule(target), made, None)
            if inspect.isclass(made) and issubclass(made, err.NodeError):
                add(_codes_of(_code_argument(target, call), scope, tree), made.__name__)

    visit(tree, tree, None)


def errors() -> str:
    from nodetls import errors as err

    classes: dict[str, set[str]] = {}
    for name in dir(err):  # the system errors' classes (their codes are no ERR_* literals)
        obj = getattr(err, name)
        if inspect.isclass(obj) and issubclass(obj, err.NodeError) and obj is not err.NodeError:
            classes.setdefault(obj.code, set()).add(obj.__name__)
    classes.update(_raised_classes())
    for code in err.MESSAGES:  # (a code raised with no literal the scan follows)
        classes.setdefault(code, {type(err.node_error(code)).__name__})
    where = _codes_in_source()
    out = ["| code | class | message (Node's) | raised in |", "|---|---|---|---|"]
    for code in sorted(set(classes) | set(where)):
        if code in _PLACEHOLDERS:
            continue
        cls = ", ".join(f"`{c}`" for c in sorted(classes.get(code, {"NodeError"})))
        message = err.MESSAGES.get(code, "")
        mods = ", ".join(sorted(m.removeprefix("nodetls.") for m in where.get(code, ())
                                if m != "nodetls.errors"))
        out.append(f"| `{code}` | {cls} | {_cell(message)} | {mods} |")
    return "\n".join(out) + "\n"


def constants() -> str:
    from nodetls import constants as c

    out = ["| name | value |", "|---|---|"]
    for name in c.__all__:
        out.append(f"| `{name}` | `{getattr(c, name):#x}` |")
    return "\n".join(out) + "\n"


def members(dotted: str) -> str:
    module, _, name = dotted.rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    out = ["| member | what |", "|---|---|"]
    members = dict(cls.__dict__)
    for base in cls.__bases__:  # a mixin whose members are the class's own (TLSSocket's API;
        # a direct base: TLSSocket's members are not net.Socket's mixins')
        if base.__dict__.get("_MEMBERS_OF_SUBCLASS"):
            members.update((k, v) for k, v in base.__dict__.items() if k not in members)
    for attr, value in members.items():
        if attr.startswith("_") or isinstance(value, types.MemberDescriptorType):
            continue  # (a slot: an instance attribute, as those set in __init__)
        fn = value.fget if isinstance(value, property) else getattr(value, "__func__", value)
        doc = inspect.getdoc(fn) or ""
        first = doc.split("\n\n")[0] if doc else ""
        if not callable(fn) and not isinstance(value, property) and not hasattr(value, "__get__"):
            first = f"data attribute, initially `{value!r}`"  # (not its type's docstring)
        if callable(fn) and not isinstance(value, property):
            try:
                params = list(inspect.signature(fn).parameters.values())[1:]  # no self
                sig = str(inspect.Signature([q.replace(annotation=q.empty) for q in params]))
            except (TypeError, ValueError):
                sig = "(...)"
            label = f"`{attr}{sig}`"
        else:
            label = f"`{attr}`"
        out.append(f"| {_cell(label)} | {_cell(first)} |")
    return "\n".join(out) + "\n"


RENDER = {"options": options, "errors": lambda _: errors(), "constants": lambda _: constants(),
          "members": members}


def render(text: str) -> str:
    def sub(m: re.Match[str]) -> str:
        body = RENDER[m["what"]](m["arg"] or "")
        return m.group(1) + body + m.group(5)

    return BLOCK.sub(sub, text)


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(SRC.parent))
    stale = []
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text()
        new = render(text)
        if new != text:
            stale.append(page.name)
            if "--check" not in argv:
                page.write_text(new)
    if stale and "--check" in argv:
        print("stale (run python docs/gen_reference.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
