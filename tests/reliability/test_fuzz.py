"""Property-based API testing: schemathesis generates requests from our own OpenAPI document.

Every operation of /openapi.json is called with generated valid and invalid input, through a
real server on each backend, authenticated with a real token. No response may be a 5xx, and
every response must be documented: its status code, content type, headers and body schema.
Each operation must also answer at least one request with something other than 401 or 403: a
generated request that ends the fuzzer's token (a password change, deleting its account) or
its powers (handing the site's ownership on) must not leave the operations after it tested only
at their authentication check: those run in phases of their own, after the others.

The suite runs a few random examples per operation. `make fuzz` sets FUZZ_EXAMPLES for a long
run and adds schemathesis's coverage phase (every boundary and every kind of invalid value, for
every parameter): a few minutes, which the suite cannot afford on every run.
"""

import contextlib
import copy
import functools
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig

from bench.live import bearer_headers
from fastblog.params import NO_NUL
from tests.accounts import image_bytes
from tests.apps import create_app
from tests.conftest import make_settings
from tests.reliability.databases import postgres_database, postgres_dsn, sqlite_database
from tests.reliability.server import Server, running_server, server_env

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
# Stateful phase: sequences of calls chained by the links schemathesis infers (a created post's
# id fed to its GET, PATCH and DELETE; a created user's to its DELETE...). Users get deleted
# mid-run, the fuzzer's own account among them.
FUZZ_SCENARIOS = int(os.environ.get("FUZZ_SCENARIOS", str(max(5, FUZZ_EXAMPLES // 3))))
FUZZ_STEPS = int(os.environ.get("FUZZ_STEPS", "8"))
FUZZ_COVERAGE = os.environ.get("FUZZ_COVERAGE", "") == "1"

CONFIG = SchemathesisConfig.from_dict(
    {
        "phases": {"coverage": {"enabled": FUZZ_COVERAGE}},
        "checks": {
            # Business rules refuse some schema-valid requests on purpose, with a 400: a taken
            # username, a wrong current password, a used reset token.
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", 400, 401, 403, 404, 409, 429, "5xx"]
            },
            # PATCH /api/users/token is also PATCH /api/users/{user_id} with user_id="token":
            # it answers 422 (not an id), not 405. Starlette matches paths in order, and the
            # 422 names the parameter. Allow is checked (below, and in test_openapi.py).
            "unsupported_method": {"enabled": False},
            # A body over the 1 MB limit (fastblog.limits) is refused with 413 Content Too
            # Large before it is read, whatever it holds: an invalid one (a generated
            # megabyte-long `content`) as well. The rest are schemathesis' own defaults.
            "negative_data_rejection": {
                "expected-statuses": [
                    400,
                    401,
                    403,
                    404,
                    405,
                    406,
                    409,
                    413,
                    415,
                    422,
                    428,
                    429,
                    "5xx",
                ]
            },
        },
        "operations": [
            {
                # Nor "not the owner stepping down": the owner giving their own account another
                # role is a 409 saying to hand ownership on first (the fuzzer's first account
                # is the site's owner).
                "include-name": "PUT /api/users/{user_id}/role",
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2xx", 400, 401, 403, 404, 409, 422, "5xx"]
                    }
                },
            },
            {
                # The same overlap: Allow on /api/users/token also names the GET, PATCH and
                # DELETE of /api/users/{user_id}, which that URL reaches (with a 422); and
                # Allow on /api/subscriptions/export the DELETE of /api/subscriptions/{id}.
                "include-path-regex": (
                    "^/api/(users/(token|forgot-password|reset-password|me)|subscriptions/export)$"
                ),
                "checks": {"allow_header_conformance": {"enabled": False}},
            },
            {
                # A schema cannot say what a tag may hold (letters of any script, by Unicode
                # category, after trimming and lower-casing), nor that a draft has no
                # publication date: those schema-valid bodies are a 422 naming the field.
                "include-path-regex": "^/api/posts",
                "include-method-regex": "^(POST|PUT|PATCH)$",
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2xx", 400, 401, 403, 404, 422, "5xx"]
                    }
                },
            },
            {
                # A schema cannot say "not yourself" (following yourself is a 422 naming the
                # user), nor "a cursor this list gave out" (any other is a 422 on `cursor`,
                # also on the moderation queue, checked before the role's 403).
                "include-path-regex": "^/api/(users/[^/]+/follow|feed|comments)$",
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2xx", 401, 403, 404, 422, 429, "5xx"]
                    }
                },
            },
            {
                # Nor, on every list that pages by cursor, "a cursor this list gave out": any
                # other is a 422 on `cursor`.
                "include-path-regex": (
                    "^/api/(posts|search|comments|users/[^/]+/posts|posts/[^/]+/comments)$"
                ),
                "include-method-regex": "^GET$",
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2xx", 400, 401, 403, 404, 422, 429, "5xx"]
                    }
                },
            },
            {
                # Nor "not one of the 10,000 most common passwords, not only blanks": a
                # schema-valid new password such as "00000000" is a 422 naming the field.
                "include-path-regex": "^/api/users(/me/password|/reset-password)?$",
                "include-method-regex": "^(POST|PATCH)$",
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2xx", 400, 401, 403, 404, 409, 422, 429, "5xx"]
                    }
                },
            },
            {
                # A schema can say "a file", not "an image": an empty or non-image file is 422.
                "include-name": "PATCH /api/users/me/picture",
                "checks": {"positive_data_acceptance": {"enabled": False}},
            },
        ],
    }
)


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The document /openapi.json serves (building it needs no database). Built once a process
    (an app and its document: 0.4 CPU-s, asked for four times); read it, never change it."""
    app = create_app(make_settings("sqlite+aiosqlite:///:memory:", Path("media")))
    return app.openapi()


# Schemathesis (4.x) folds a string's length bounds into its pattern: a post's content,
# `^[^\x00]*$` of 1 to 100,000 characters, becomes `^[^\x00]{1,100000}$`, which it then
# tries to compile in the Rust regex engine behind its validator (refused, after ~0.1 s), and
# canonicalizes, again for each operation and phase: 2-3 CPU-s per example of POST, PUT and
# PATCH /api/posts, most of the module's own CPU. The same language written as a branch is
# left as it is, and keeps its length bounds beside it (negative cases then include the
# empty content, which the folded pattern never produced).
HUGE_LENGTH = 10_000


def fuzzed_document() -> dict[str, Any]:
    """openapi_document(), each long no-NUL string's pattern written so schemathesis does not
    fold its length into it. The same strings are valid and invalid."""
    document = copy.deepcopy(openapi_document())

    def rewrite(node: object) -> None:
        if isinstance(node, dict):
            if node.get("pattern") == NO_NUL and node.get("maxLength", 0) > HUGE_LENGTH:
                node["pattern"] = f"{NO_NUL}|^$"  # "" matched both sides already
            for value in node.values():
                rewrite(value)
        elif isinstance(node, list):
            for value in node:
                rewrite(value)

    rewrite(document)
    return document


# The JSON API and the probes; the lab (/lab, /metrics) is tested on its own.
FUZZED_PATHS = re.compile(r"^/(api/|health$|ready$)")
# `include()` would select everything here: with `operations` in the config, schemathesis
# (4.32) ORs a new include with the config's own select-all filter. An exclusion narrows.
schema = schemathesis.openapi.from_dict(fuzzed_document(), config=CONFIG).exclude(
    lambda ctx: not FUZZED_PATHS.match(ctx.operation.path)
)
# The operations that can end the token they are sent with: a password change or a reset moves
# the account's auth_version on, and deleting your own account ends it. A generated request
# that succeeds would leave every later operation answering 401 only, so they run in a phase of
# their own, after the others, and the token is checked (and replaced) after each of them.
TOKEN_ENDING = frozenset(
    {
        "PATCH /api/users/me/password",
        "POST /api/users/reset-password",
        "DELETE /api/users/{user_id}",
    }
)
# Giving another account the role "owner" hands ownership on: the fuzzer, the site's first
# account and so its owner, is an admin from then on, and the owner's operations (site pages,
# the newsletter's subscribers...) answer it 403 only. That one runs last of all.
ROLE_CHANGING = frozenset({"PUT /api/users/{user_id}/role"})
everyday = schema.exclude(name=sorted(TOKEN_ENDING | ROLE_CHANGING))
token_ending = schema.exclude(lambda ctx: ctx.operation.label not in TOKEN_ENDING)
role_changing = schema.exclude(lambda ctx: ctx.operation.label not in ROLE_CHANGING)
TURNED_AWAY = frozenset({401, 403})
# The schema's "format: email" is looser than the validator, which refuses reserved domains
# such as .test on purpose: generate addresses it accepts, so valid input stays valid.
schemathesis.openapi.format(
    "email", st.from_regex(r"\A[a-z0-9]{1,20}(\.[a-z0-9]{1,10})?@example\.(com|org)\Z")
)


class Account:
    """The fuzzer's account and bearer token; a new account when a generated request ended it."""

    PASSWORD = "fuzzer-password"

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.made = 0
        self.headers: dict[str, str] = {}
        self.sign_up()

    def sign_up(self) -> None:
        # A new name each time: the old account may be gone, or hold a password we never saw.
        while True:
            self.made += 1
            email = f"fuzzer{self.made}@example.com"
            body = {"username": f"fuzzer{self.made}", "email": email, "password": self.PASSWORD}
            created = httpx.post(f"{self.base_url}/api/users", json=body, timeout=30)
            if created.status_code != 400:  # 400: a generated request took the name first
                break
        created.raise_for_status()
        self.headers = bearer_headers(self.base_url, email, self.PASSWORD)

    def keep_valid(self) -> None:
        me = httpx.get(f"{self.base_url}/api/users/me", headers=self.headers, timeout=30)
        if me.status_code == 401:
            self.sign_up()


class Answers:
    """The status codes each operation answered on one server, generated requests only."""

    def __init__(self) -> None:
        self.by_operation: defaultdict[str, Counter[int]] = defaultdict(Counter)

    def record(self, case: schemathesis.Case, status_code: int) -> None:
        self.by_operation[case.operation.label][status_code] += 1

    def add(self, other: "Answers") -> None:
        for label, statuses in other.by_operation.items():
            self.by_operation[label].update(statuses)

    def turned_away(self, labels: set[str]) -> dict[str, Counter[int]]:
        """The operations that never got past authentication: only 401 and 403, or nothing."""
        return {
            label: self.by_operation[label]
            for label in sorted(labels)
            if not set(self.by_operation[label]) - TURNED_AWAY
        }

    def report(self, backend: str) -> str:
        lines = [f"schemathesis on {backend}: {self.total()} generated requests"]
        for label, statuses in sorted(self.by_operation.items(), key=lambda item: -item[1].total()):
            codes = " ".join(f"{code}x{count}" for code, count in sorted(statuses.items()))
            lines.append(f"  {statuses.total():6d}  {label}  ({codes})")
        return "\n".join(lines)

    def total(self) -> int:
        return sum(statuses.total() for statuses in self.by_operation.values())


def fuzzed_operations() -> set[str]:
    """Every operation of the fuzzed paths, read from the document, not from schemathesis."""
    return {
        f"{method.upper()} {path}"
        for path, operations in openapi_document()["paths"].items()
        if FUZZED_PATHS.match(path)
        for method in operations
    }


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def fuzz_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One server per backend for the whole module, on a database of its own."""
    folder = tmp_path_factory.mktemp(f"fuzz-{backend}")
    with contextlib.ExitStack() as stack:
        if backend == "sqlite":
            database_url = sqlite_database(folder)
        else:
            database_url = postgres_dsn(stack.enter_context(postgres_database()))
        env = server_env(
            database_url,
            folder / "media",
            # Generated logins fail by the hundred; throttling them would hide the routes behind.
            login_failures_per_account_and_address=10**6,
            login_failures_per_address=10**6,
            login_failures_per_account=10**6,
            # Generated writes come by the hundred too: a 429 would hide the routes as well.
            write_rate_limits=False,
        )
        server = stack.enter_context(running_server(env, folder / "server.log"))
        yield server
        assert "Traceback" not in server.log(), server.log()


@pytest.fixture(scope="module")
def account(fuzz_server: Server) -> Account:
    account = Account(fuzz_server.url)
    # The picture process pool starts its workers on first use: seconds of imports, which on
    # a loaded machine outlast schemathesis's 10 s timeout. Start them before the clock runs.
    picture = {"file": ("me.png", image_bytes(), "image/png")}
    with httpx.Client(base_url=fuzz_server.url, timeout=120) as client:
        uploaded = client.patch("/api/users/me/picture", files=picture, headers=account.headers)
        uploaded.raise_for_status()
    return account


@pytest.fixture(scope="module")
def answers(backend: str, fuzz_server: Server) -> Iterator[Answers]:
    """Every answer of the module on one backend, reported at the end (with `-s`)."""
    answers = Answers()
    yield answers
    print(f"\n{answers.report(backend)}")


@pytest.fixture
def operation_answers(answers: Answers) -> Iterator[Answers]:
    """The answers to one operation's generated requests, checked once all are in: at least one
    must be something other than 401 or 403, or the operation was fuzzed only at its door (a
    revoked token, say). Checked per test, so it holds however the tests are ordered or split
    between processes."""
    mine = Answers()
    yield mine
    answers.add(mine)
    turned_away = mine.turned_away(set(mine.by_operation))
    assert not turned_away, f"only 401/403 answers: {dict(turned_away)}"


def call_and_validate(
    case: schemathesis.Case, server: Server, account: Account, answers: Answers
) -> None:
    headers = dict(account.headers)
    response = case.call(base_url=server.url, headers=headers)
    answers.record(case, response.status_code)
    try:
        case.validate_response(
            response, headers=headers, transport_kwargs={"base_url": server.url, "headers": headers}
        )
    finally:
        if case.operation.label in TOKEN_ENDING:
            account.keep_valid()


@everyday.parametrize()
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_get_documented_answers(
    case: schemathesis.Case, fuzz_server: Server, account: Account, operation_answers: Answers
) -> None:
    call_and_validate(case, fuzz_server, account, operation_answers)


# Defined after the phase above, so pytest runs it after (per backend): whatever these requests
# do to the fuzzer's token, no other operation sees it.
@token_ending.parametrize()
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_token_ending_requests_get_documented_answers(
    case: schemathesis.Case, fuzz_server: Server, account: Account, operation_answers: Answers
) -> None:
    call_and_validate(case, fuzz_server, account, operation_answers)


# Defined after both phases above: whoever owns the site after these, no operation that needs
# the owner runs again (but the stateful sequences, which check no operation's answers).
@role_changing.parametrize()
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_role_changing_requests_get_documented_answers(
    case: schemathesis.Case, fuzz_server: Server, account: Account, operation_answers: Answers
) -> None:
    call_and_validate(case, fuzz_server, account, operation_answers)


def test_stateful_sequences_get_documented_answers(
    fuzz_server: Server, account: Account, answers: Answers
) -> None:
    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"base_url": fuzz_server.url, "headers": dict(account.headers)}

        def after_call(self, response: Any, case: schemathesis.Case) -> None:
            answers.record(case, response.status_code)
            if case.operation.label in TOKEN_ENDING:
                account.keep_valid()

    before = answers.total()
    Workflow.run(
        settings=settings(
            max_examples=FUZZ_SCENARIOS,
            stateful_step_count=FUZZ_STEPS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    assert answers.total() > before


def test_schema_is_what_the_server_serves(fuzz_server: Server) -> None:
    served = httpx.get(f"{fuzz_server.url}/openapi.json", timeout=10).json()
    assert served == openapi_document()


def test_every_operation_is_fuzzed() -> None:
    """The phases above, between them, select every operation of the fuzzed paths, once."""
    phases = [everyday, token_ending, role_changing]
    selected = Counter(
        result.ok().label
        for phase in phases
        for result in phase.get_all_operations()
        if phase.filter_set.applies_to(result.ok())
    )
    assert set(selected) == fuzzed_operations()
    assert set(selected.values()) == {1}
