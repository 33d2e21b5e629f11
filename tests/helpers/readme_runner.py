"""Run README code blocks as a reader would: ``python readme_runner.py UNIT.json``.

UNIT.json is a list of pieces ``{"path": str, "line": int, "source": str}`` (``path``/``line``:
where the piece starts in the README, so tracebacks point at README lines).  The pieces run in
order, in one namespace (``__name__ == '__main__'``):

* a *program* -- a piece with a top-level ``<something>.run(...)`` call, such as ``tls.run(main)``
  -- runs at top level, with no event loop running, as ``python file.py`` would run it;
* every other piece is a *fragment*: it runs inside a coroutine on one event loop shared by the
  unit's fragments, as the README says ("code that awaits runs inside ``async def main()``"), so a
  top-level ``await`` works and objects made by one fragment are usable in the next.

When the last piece is done the loop is closed (remaining tasks cancelled) and the process exits 0.
Any exception exits 1 with its traceback.  Used by ``tests/test_readme.py``.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import sys
from typing import Any


def _is_program(tree: ast.Module) -> bool:
    for node in tree.body:
        if (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Attribute) and node.value.func.attr == "run"):
            return True
    return False


def main(unit_file: str) -> int:
    with open(unit_file, encoding="utf-8") as f:
        pieces: list[dict[str, Any]] = json.load(f)
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
    runner: asyncio.Runner | None = None
    try:
        for piece in pieces:
            # Pad with newlines so that line numbers in tracebacks are the README's.
            source = "\n" * (piece["line"] - 1) + piece["source"]
            tree = ast.parse(source, piece["path"])
            code = compile(tree, piece["path"], "exec",
                           flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
            if _is_program(tree):
                exec(code, namespace)
                continue
            if runner is None:
                runner = asyncio.Runner()

            async def fragment(code: Any = code) -> None:
                result = eval(code, namespace)  # a coroutine when the piece awaits
                if inspect.iscoroutine(result):
                    await result

            runner.run(fragment())
    finally:
        if runner is not None:
            runner.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
