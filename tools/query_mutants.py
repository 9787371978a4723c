"""Mutants of the module-level SQL that mutmut cannot make (it mutates function bodies only).

The visibility promises live in query constants built at import time (`VISIBLE`, the feeds'
`LATEST`, the sitemap's ranges, comments' `READABLE`). For each module named in MODULES, every
module-level filter is taken away or turned, one at a time: a `.where(...)` dropped (or one of
its conditions), one condition of an `and_`/`or_` dropped, a comparison turned (`<=` to `<`,
`==` to `!=`, ...), `is_` and `is_not` swapped, `&` made `|`, an order reversed. Each mutant
runs the module's tests (SQLite only, stop at the first failure) in a fresh process that
imports a mutated copy of the package. A mutant no test kills fails the run, unless
EQUIVALENT says why it cannot change what a user sees.

    python -m tools.query_mutants [module ...]      e.g. posts.feeds
"""

import ast
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "fastblog"

# Module (under fastblog) -> the tests that keep its promises.
MODULES: dict[str, list[str]] = {
    "posts.queries": [
        "tests/posts/test_publishing.py",
        "tests/posts/test_feed_visibility.py",
        "tests/posts/test_api.py",
        "tests/posts/test_keyset.py",
        "tests/posts/test_list_counts.py",
        "tests/social/test_likes.py",  # `liked` in lists (LIKED)
        "tests/social/test_follows.py",  # the follow feed's order (NEWEST_FIRST)
    ],
    "posts.feeds": ["tests/posts/test_feeds.py", "tests/posts/test_feed_visibility.py"],
    "posts.sitemap": ["tests/posts/test_sitemap.py", "tests/posts/test_sitemap_authors.py"],
    "posts.likes": ["tests/social/test_likes.py", "tests/posts/test_likes_reach_one_post.py"],
    "comments.queries": [
        "tests/comments/test_api.py",
        "tests/comments/test_views.py",
        "tests/comments/test_comments_beside_a_visible_post.py",
        "tests/comments/test_moderation.py",  # who sees a waiting comment (SEEN)
    ],
    "comments.service": [
        "tests/comments/test_authorization.py",  # TO_DELETE: who may delete which comment
        "tests/comments/test_api.py",  # TO_DELETE: a comment is deleted through its own post
        "tests/comments/test_moderation.py",  # TO_REJECT: a moderator's delete from the queue
        "tests/comments/test_admin_page.py",
    ],
    "accounts.queries": [
        "tests/auth/test_token_revocation.py",
        "tests/auth/test_tokens.py",
        "tests/users/test_moderator_role.py",
    ],
}

# Seconds a mutant's tests may run (a module's tests take well under a minute unmutated).
TIMEOUT = 180

# "module: mutant description" -> why no user can tell the mutant from the original.
EQUIVALENT: dict[str, str] = {
    "posts.queries:52: and_ condition Post.status == PUBLISHED dropped": (
        "a draft has no published_at (the check constraint status_published_at), so "
        "`published_at <= now` alone is only ever true of a published post"
    ),
    # A post due at the very microsecond of the request is the only one that could tell
    # `<= now` from `< now`: it shows one request later.
    **dict.fromkeys(
        [
            "posts.queries:52: Post.published_at <= NOW: <= made <",
            "posts.queries:154: at <= NOW: <= made <",
            # the drafts page's "not yet visible": the same instant seen from the other side
            "posts.queries:266: Post.published_at > NOW: > made >=",
            # a tag's count less its scheduled posts (GET /api/tags): the same instant
            "posts.queries:300: PostTag.published_at > NOW: > made >=",
            "posts.queries:202: PostTag.published_at > NOW: > made >=",  # a tag's list total
        ],
        "only a post due at the very microsecond of the request could tell",
    ),
    "posts.queries:279: where condition Post.status == DRAFT dropped": (
        "only a draft has a submitted_at: publishing a post, or sending it back to draft, "
        "clears it (fastblog.posts.service)"
    ),
}

SWAPPED = {
    ast.LtE: ("<=", "<"),
    ast.Lt: ("<", "<="),
    ast.GtE: (">=", ">"),
    ast.Gt: (">", ">="),
    ast.Eq: ("==", "!="),
    ast.NotEq: ("!=", "=="),
}
RENAMED = {"is_": "is_not", "is_not": "is_", "desc": "asc", "asc": "desc"}


@dataclass(frozen=True)
class Mutant:
    line: int
    description: str
    source: bytes


class Offsets:
    """ast positions (line, UTF-8 byte column) as offsets into the file's bytes."""

    def __init__(self, source: bytes) -> None:
        self.starts = [0]
        for line in source.splitlines(keepends=True):
            self.starts.append(self.starts[-1] + len(line))

    def start(self, node: ast.AST) -> int:
        line: int = getattr(node, "lineno")  # noqa: B009 (expressions have it, ast.AST does not say so)
        return self.starts[line - 1] + int(getattr(node, "col_offset"))  # noqa: B009

    def end(self, node: ast.AST) -> int:
        line: int = getattr(node, "end_lineno")  # noqa: B009
        return self.starts[line - 1] + int(getattr(node, "end_col_offset"))  # noqa: B009


def module_level_nodes(tree: ast.Module) -> Iterator[ast.AST]:
    """Every node outside function and class bodies (those are mutmut's), and the bodies of
    the module's functions that its top level calls (`_page()` building `PAGES`): they run
    once, at import, before mutmut has chosen a mutant, so mutmut's mutants of them can
    never be active (their lines carry `# pragma: no mutate block`)."""
    top = [
        statement
        for statement in tree.body
        if not isinstance(
            statement,
            ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Import | ast.ImportFrom,
        )
    ]
    called = {
        node.func.id
        for statement in top
        for node in ast.walk(statement)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef) and statement.name in called:
            for inner in statement.body:
                yield from ast.walk(inner)
    for statement in top:
        yield from ast.walk(statement)


def mutants_of(source: bytes) -> Iterator[Mutant]:
    at = Offsets(source)

    def replaced(start: int, end: int, text: bytes, line: int, description: str) -> Mutant:
        return Mutant(line, description, source[:start] + text + source[end:])

    def without_argument(call: ast.Call, index: int) -> bytes:
        kept = [source[at.start(a) : at.end(a)] for i, a in enumerate(call.args) if i != index]
        return source[at.start(call.func) : at.end(call.func)] + b"(" + b", ".join(kept) + b")"

    def text(node: ast.AST) -> str:
        return source[at.start(node) : at.end(node)].decode()

    for node in module_level_nodes(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
            if name == "where":
                target = node.func.value
                yield replaced(
                    at.start(node),
                    at.end(node),
                    source[at.start(target) : at.end(target)],
                    node.lineno,
                    f".where({', '.join(text(a) for a in node.args)}) dropped",
                )
                if len(node.args) > 1:
                    for i, argument in enumerate(node.args):
                        yield replaced(
                            at.start(node),
                            at.end(node),
                            without_argument(node, i),
                            argument.lineno,
                            f"where condition {text(argument)} dropped",
                        )
            elif name in RENAMED and not node.args:
                dot = source.rindex(b"." + name.encode(), at.start(node), at.end(node))
                yield replaced(
                    dot + 1,
                    dot + 1 + len(name),
                    RENAMED[name].encode(),
                    node.lineno,
                    f"{text(node)}: .{name}() made .{RENAMED[name]}()",
                )
            elif name in RENAMED:
                dot = source.rindex(b"." + name.encode() + b"(", at.start(node), at.end(node))
                yield replaced(
                    dot + 1,
                    dot + 1 + len(name),
                    RENAMED[name].encode(),
                    node.lineno,
                    f"{text(node)}: .{name} made .{RENAMED[name]}",
                )
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("and_", "or_")
            and len(node.args) > 1
        ):
            for i, argument in enumerate(node.args):
                yield replaced(
                    at.start(node),
                    at.end(node),
                    without_argument(node, i),
                    argument.lineno,
                    f"{node.func.id} condition {text(argument)} dropped",
                )
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in SWAPPED:
            old, new = SWAPPED[type(node.ops[0])]
            gap_start, gap_end = at.end(node.left), at.start(node.comparators[0])
            gap = source[gap_start:gap_end]
            yield replaced(
                gap_start,
                gap_end,
                gap.replace(old.encode(), new.encode(), 1),
                node.lineno,
                f"{text(node)}: {old} made {new}",
            )
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitAnd):
            gap_start, gap_end = at.end(node.left), at.start(node.right)
            gap = source[gap_start:gap_end]
            yield replaced(
                gap_start,
                gap_end,
                gap.replace(b"&", b"|", 1),
                node.lineno,
                f"{text(node)}: & made |",
            )


def killed(copy: Path, tests: list[str]) -> bool:
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("CI", None)
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
    command += ["-k", "not postgres", *tests]
    # Our own interpreter and test paths from MODULES: no outside input. A mutant can make a
    # test loop for ever (a cursor that never moves on): past TIMEOUT it counts as killed.
    try:
        result = subprocess.run(  # noqa: S603
            command, cwd=ROOT, env=env, capture_output=True, check=False, timeout=TIMEOUT
        )
    except subprocess.TimeoutExpired:
        return True
    return result.returncode != 0


def run(module: str, copy: Path) -> list[str]:
    relative = Path(*module.split(".")).with_suffix(".py")
    original = (PACKAGE / relative).read_bytes()
    target = copy / "fastblog" / relative
    mutants = list(mutants_of(original))
    survivors: list[str] = []
    kills = 0
    try:
        for mutant in mutants:
            target.write_bytes(mutant.source)
            name = f"{module}:{mutant.line}: {mutant.description}"
            if killed(copy, MODULES[module]):
                kills += 1
            elif name in EQUIVALENT:
                print(f"  equivalent  {name}", flush=True)
            else:
                survivors.append(name)
                print(f"  SURVIVED    {name}", flush=True)
    finally:
        target.write_bytes(original)
    equivalent = len(mutants) - kills - len(survivors)
    print(f"{module}: {kills}/{len(mutants)} killed, {equivalent} equivalent", flush=True)
    return survivors


def main(argv: list[str]) -> int:
    # `make mutate MODULES=...` names mutmut's modules too: run those that have queries here.
    modules = [module for module in argv if module in MODULES] if argv else list(MODULES)
    if not modules:
        return 0
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="query-mutants-") as directory:
        copy = Path(directory)
        shutil.copytree(PACKAGE, copy / "fastblog", ignore=shutil.ignore_patterns("__pycache__"))
        # The unmutated copy must pass, or every mutant would look killed.
        clean = [test for module in modules for test in MODULES[module]]
        if killed(copy, clean):
            print("the tests fail without any mutant: fix them first", file=sys.stderr)
            return 2
        survivors = [name for module in modules for name in run(module, copy)]
    print(f"{len(survivors)} surviving query mutants in {time.monotonic() - started:.0f} s")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
