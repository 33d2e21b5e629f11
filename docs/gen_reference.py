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
import inspect
import re
import sys
import types
from pathlib import Path

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


def errors() -> str:
    from nodetls import errors as err

    classes: dict[str, str] = {}
    for code in err.MESSAGES:
        classes[code] = type(err.node_error(code)).__name__
    for name in dir(err):
        obj = getattr(err, name)
        if inspect.isclass(obj) and issubclass(obj, err.NodeError) and obj is not err.NodeError:
            classes.setdefault(obj.code, obj.__name__)
    where = _codes_in_source()
    out = ["| code | class | message (Node's) | raised in |", "|---|---|---|---|"]
    for code in sorted(set(classes) | set(where)):
        if code.endswith("_UNKNOWN"):
            continue
        cls = classes.get(code, "NodeError")
        message = err.MESSAGES.get(code, "")
        mods = ", ".join(sorted(m.removeprefix("nodetls.") for m in where.get(code, ())
                                if m != "nodetls.errors"))
        out.append(f"| `{code}` | `{cls}` | {_cell(message)} | {mods} |")
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
