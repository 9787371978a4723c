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
    python -m tools.query_mutants posts.queries --only 53-59
                                                    those mutants alone, numbered from 1
                                                    in the order a full run makes them
    --timeout 600                                   seconds per mutant, on a loaded machine

A mutant whose tests outrun the timeout counts as killed but is printed as "timeout": on a
loaded machine the unmutated tests can take that long too, so check it by hand.
"""

import argparse
import ast
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
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

# Seconds a mutant's tests may run (a module's tests take well under a minute unmutated on
# an idle machine; posts.queries' took 5 minutes at nice 19 beside a full suite: --timeout).
TIMEOUT = 180

# "module: owner: mutant description" -> why no user can tell the mutant from the original.
# The owner is the constant the mutant changes (or the function that builds one): a line
# number would move with every edit above it.
EQUIVALENT: dict[str, str] = {
    "posts.queries: VISIBLE: and_ condition Post.status == PUBLISHED dropped": (
        "a draft has no published_at (the check constraint status_published_at), so "
        "`published_at <= now` alone is only ever true of a published post"
    ),
    # A post due at the very microsecond of the request is the only one that could tell
    # `<= now` from `< now`: it shows one request later.
    **dict.fromkeys(
        [
            "posts.queries: VISIBLE: Post.published_at <= NOW: <= made <",
            "posts.queries: _page: at <= NOW: <= made <",
            # the drafts page's "not yet visible": the same instant seen from the other side
            "posts.queries: NOT_YET_VISIBLE_AT: Post.published_at > NOW: > made >=",
            # a tag's count less its scheduled posts (GET /api/tags): the same instant
            "posts.queries: _TAG_POSTS: PostTag.published_at > NOW: > made >=",
            # a tag's list total
            "posts.queries: TAG_SCHEDULED: PostTag.published_at > NOW: > made >=",
            # the scheduled posts taken from a list's total, and from a user's with a tag
            "posts.queries: _scheduled: Post.published_at > NOW: > made >=",
            "posts.queries: USER_TAG_SCHEDULED: PostTag.published_at > NOW: > made >=",
        ],
        "only a post due at the very microsecond of the request could tell",
    ),
    # The upper bound of a scheduled range is there for the planner's estimate (_scheduled).
    **dict.fromkeys(
        [
            "posts.queries: _scheduled: Post.published_at < NEVER: < made <=",
            "posts.queries: USER_TAG_SCHEDULED: where condition PostTag.published_at < NEVER "
            "dropped",
            "posts.queries: USER_TAG_SCHEDULED: PostTag.published_at < NEVER: < made <=",
        ],
        "no post is published at or after NEVER, the last moment of the year 9999: a "
        "publication date outside 1970 to 2100 is refused (fastblog.posts.schemas), and "
        "otherwise a post is published at the moment it is written or changed",
    ),
    "posts.queries: IN_REVIEW: where condition Post.status == DRAFT dropped": (
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
    owner: str  # the constant it builds (`VISIBLE`) or the builder function (`_page`)
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


def owner_of(statement: ast.stmt) -> str:
    """The name a top-level statement builds: a stable part of a mutant's key, where a line
    number moves with every edit above it."""
    if isinstance(statement, ast.FunctionDef):
        return statement.name
    if isinstance(statement, ast.Assign):
        return ", ".join(ast.unparse(target) for target in statement.targets)
    if isinstance(statement, ast.AnnAssign):
        return ast.unparse(statement.target)
    return f"line {statement.lineno}"


def module_level_nodes(tree: ast.Module) -> Iterator[tuple[str, ast.AST]]:
    """Every node outside function and class bodies (those are mutmut's), and the bodies of
    the module's functions that its top level calls (`_page()` building `PAGES`): they run
    once, at import, before mutmut has chosen a mutant, so mutmut's mutants of them can
    never be active (their lines carry `# pragma: no mutate block`). Each with its owner."""
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
                for node in ast.walk(inner):
                    yield statement.name, node
    for statement in top:
        for node in ast.walk(statement):
            yield owner_of(statement), node


def mutants_of(source: bytes) -> Iterator[Mutant]:
    at = Offsets(source)

    def replaced(start: int, end: int, text: bytes, line: int, description: str) -> Mutant:
        return Mutant("", line, description, source[:start] + text + source[end:])  # owner: below

    def without_argument(call: ast.Call, index: int) -> bytes:
        kept = [source[at.start(a) : at.end(a)] for i, a in enumerate(call.args) if i != index]
        return source[at.start(call.func) : at.end(call.func)] + b"(" + b", ".join(kept) + b")"

    def text(node: ast.AST) -> str:
        return source[at.start(node) : at.end(node)].decode()

    def of(node: ast.AST) -> Iterator[Mutant]:
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

    for owner, node in module_level_nodes(ast.parse(source)):
        for mutant in of(node):
            yield replace(mutant, owner=owner)


def outcome(copy: Path, tests: list[str], timeout: float = TIMEOUT) -> tuple[str, str]:
    """What a mutant came to: "killed", "survived", or "timeout" (counted as killed), and the
    test that failed (pytest's FAILED line), to be read: a test that fails by chance on a
    loaded machine (one waiting for a moment) kills nothing."""
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("CI", None)
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
    command += ["-k", "not postgres", *tests]
    # Our own interpreter and test paths from MODULES: no outside input. A mutant can make a
    # test loop for ever (a cursor that never moves on): past TIMEOUT it counts as killed,
    # but a loaded machine can also get there, so a timeout is named for a check by hand.
    try:
        result = subprocess.run(  # noqa: S603
            command, cwd=ROOT, env=env, capture_output=True, check=False, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return "timeout", ""
    if result.returncode == 0:
        return "survived", ""
    failed = [line for line in result.stdout.decode().splitlines() if line.startswith("FAILED")]
    return "killed", failed[0] if failed else f"pytest exit code {result.returncode}"


def module_path(module: str) -> Path:
    """posts.queries -> posts/queries.py, under the package."""
    return Path(*module.split(".")).with_suffix(".py")


def run(
    module: str, copy: Path, only: set[int] | None = None, timeout: float = TIMEOUT
) -> list[str]:
    relative = module_path(module)
    original = (PACKAGE / relative).read_bytes()
    target = copy / "fastblog" / relative
    numbered = list(enumerate(mutants_of(original), start=1))
    names = [f"{module}: {mutant.owner}: {mutant.description}" for _, mutant in numbered]
    if len(set(names)) < len(names):  # EQUIVALENT could not tell them apart
        raise SystemExit(f"{module}: two mutants with one name: {sorted(names)}")
    stale = [key for key in EQUIVALENT if key.startswith(f"{module}: ") and key not in names]
    if stale:  # renamed or gone: the reason no longer covers anything
        raise SystemExit(f"EQUIVALENT names no mutant of {module}: {stale}")
    mutants = [(n, mutant) for n, mutant in numbered if only is None or n in only]
    survivors: list[str] = []
    kills = timeouts = 0
    try:
        for number, mutant in mutants:
            target.write_bytes(mutant.source)
            name = names[number - 1]
            started = time.monotonic()
            verdict, failed = outcome(copy, MODULES[module], timeout)
            took = f"#{number} line {mutant.line} ({time.monotonic() - started:.0f} s)"
            if verdict != "survived":
                kills += 1
                timeouts += verdict == "timeout"
                print(f"  {verdict:<11} {took} {name}", flush=True)
                if failed:
                    print(f"              {failed}", flush=True)
            elif name in EQUIVALENT:
                print(f"  equivalent  {took} {name}", flush=True)
            else:
                survivors.append(name)
                print(f"  SURVIVED    {took} {name}", flush=True)
    finally:
        target.write_bytes(original)
    equivalent = len(mutants) - kills - len(survivors)
    print(
        f"{module}: {kills}/{len(mutants)} killed ({timeouts} by the timeout), "
        f"{equivalent} equivalent",
        flush=True,
    )
    return survivors


def numbers(text: str) -> set[int]:
    """`53-59`, `7` or `7,53-59`: mutant numbers, from 1."""
    chosen: set[int] = set()
    for part in text.split(","):
        first, _, last = part.partition("-")
        chosen.update(range(int(first), int(last or first) + 1))
    return chosen


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.query_mutants")
    parser.add_argument("modules", nargs="*", metavar="module")
    parser.add_argument(
        "--only", type=numbers, metavar="N-M", help="these mutants of the one module named"
    )
    parser.add_argument(
        "--timeout", type=float, default=TIMEOUT, help=f"seconds per mutant (default {TIMEOUT})"
    )
    arguments = parser.parse_args(argv)
    # `make mutate MODULES=...` names mutmut's modules too: run those that have queries here.
    named = arguments.modules
    modules = [module for module in named if module in MODULES] if named else list(MODULES)
    if arguments.only is not None and len(modules) != 1:
        parser.error("--only numbers the mutants of one module: name it")
    if not modules:
        return 0
    if arguments.only is not None:
        count = sum(1 for _ in mutants_of((PACKAGE / module_path(modules[0])).read_bytes()))
        if not arguments.only <= set(range(1, count + 1)):
            parser.error(f"{modules[0]} has mutants 1 to {count}")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="query-mutants-") as directory:
        copy = Path(directory)
        shutil.copytree(PACKAGE, copy / "fastblog", ignore=shutil.ignore_patterns("__pycache__"))
        # The unmutated copy must pass, or every mutant would look killed.
        clean = [test for module in modules for test in MODULES[module]]
        verdict, failed = outcome(copy, clean, arguments.timeout)
        if verdict != "survived":
            why = failed or f"past {arguments.timeout:.0f} s: a longer --timeout?"
            print(f"the tests fail without any mutant ({why}): fix them first", file=sys.stderr)
            return 2
        print(f"clean run {time.monotonic() - started:.0f} s", flush=True)
        survivors = [
            name
            for module in modules
            for name in run(module, copy, arguments.only, arguments.timeout)
        ]
    print(f"{len(survivors)} surviving query mutants in {time.monotonic() - started:.0f} s")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
