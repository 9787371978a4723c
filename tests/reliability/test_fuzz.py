"""Property-based API testing: schemathesis generates requests from our own OpenAPI document.

Every operation of /openapi.json is called with generated valid and invalid input, through a
real server on each backend, authenticated with a real token. No response may be a 5xx, and
every response must be documented: its status code, content type, headers and body schema.

The suite runs a few random examples per operation. `make fuzz` sets FUZZ_EXAMPLES for a long
run and adds schemathesis's coverage phase (every boundary and every kind of invalid value, for
every parameter): a few minutes, which the suite cannot afford on every run.
"""

import contextlib
import os
from collections import Counter
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
from fastblog.main import create_app
from tests.accounts import image_bytes
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
        },
        "operations": [
            {
                # The same overlap: Allow on /api/users/token also names the GET, PATCH and
                # DELETE of /api/users/{user_id}, which that URL reaches (with a 422).
                "include-path-regex": "^/api/users/(token|forgot-password|reset-password|me)$",
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
                # A schema can say "a file", not "an image": an empty or non-image file is 422.
                "include-name": "PATCH /api/users/me/picture",
                "checks": {"positive_data_acceptance": {"enabled": False}},
            },
        ],
    }
)


def openapi_document() -> dict[str, Any]:
    """The document /openapi.json serves (building it needs no database)."""
    app = create_app(make_settings("sqlite+aiosqlite:///:memory:", Path("media")))
    return app.openapi()


# The JSON API and the probes; the lab (/lab, /metrics) is tested on its own.
schema = schemathesis.openapi.from_dict(openapi_document(), config=CONFIG).include(
    path_regex=r"^/(api/|health$|ready$)"
)
# The schema's "format: email" is looser than the validator, which refuses reserved domains
# such as .test on purpose: generate addresses it accepts, so valid input stays valid.
schemathesis.openapi.format(
    "email", st.from_regex(r"\A[a-z0-9]{1,20}(\.[a-z0-9]{1,10})?@example\.(com|org)\Z")
)


class Account:
    """The fuzzer's own account and bearer token, made again if the fuzzer deletes it."""

    PASSWORD = "fuzzer-password"

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.headers: dict[str, str] = {}
        self.renew()

    def renew(self) -> None:
        body = {"username": "fuzzer", "email": "fuzzer@example.com", "password": self.PASSWORD}
        httpx.post(f"{self.base_url}/api/users", json=body, timeout=30)  # 400 if it exists: fine
        self.headers = bearer_headers(self.base_url, body["email"], self.PASSWORD)


@pytest.fixture(scope="module")
def sent() -> Iterator[Counter[str]]:
    """Counts the generated requests of the module by operation, and reports them."""
    counter: Counter[str] = Counter()
    yield counter
    print(f"\nschemathesis: {counter.total()} generated requests")
    for label, count in counter.most_common():
        print(f"  {count:6d}  {label}")


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def fuzz_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One server per backend for the whole module, on a database of its own."""
    folder = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
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


@schema.parametrize()
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_get_documented_answers(
    case: schemathesis.Case, fuzz_server: Server, account: Account, sent: Counter[str]
) -> None:
    response = case.call_and_validate(base_url=fuzz_server.url, headers=account.headers)
    sent[case.operation.label] += 1
    if case.operation.label == "DELETE /api/users/{user_id}" and response.status_code == 204:
        account.renew()  # the fuzzer deleted its own account


def test_stateful_sequences_get_documented_answers(
    fuzz_server: Server, account: Account, sent: Counter[str]
) -> None:
    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"base_url": fuzz_server.url, "headers": account.headers}

        def after_call(self, response: Any, case: schemathesis.Case) -> None:
            sent[f"stateful {case.operation.label}"] += 1
            if (
                case.operation.label == "DELETE /api/users/{user_id}"
                and response.status_code == 204
            ):
                account.renew()

    Workflow.run(
        settings=settings(
            max_examples=FUZZ_SCENARIOS,
            stateful_step_count=FUZZ_STEPS,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    assert any(label.startswith("stateful") for label in sent), sent


def test_schema_is_what_the_server_serves(fuzz_server: Server) -> None:
    served = httpx.get(f"{fuzz_server.url}/openapi.json", timeout=10).json()
    assert served == openapi_document()
