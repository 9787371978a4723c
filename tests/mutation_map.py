"""Which tests a mutant runs, for the modules every test passes through (`make mutate`).

mutmut runs, for each mutant, every selected test that called the mutated function. For most
modules those are the tests about them. Six are called by nearly every test: every request
passes the body-size middleware (`limits`) and, on a page, the session (`web.session`); nearly
every test logs in (`throttle`), signs a token (`accounts.tokens`) or is asked who it is
(`accounts.dependencies`), and every post written is rendered (`posts.markdown`); a mutant of
theirs ran the whole selection, and a survivor took minutes. For these modules the files below
are the tests that keep their promises: a mutant runs only those of the tests mutmut chose, in
this order (the quick store, unit and renderer tests first, so most mutants die in a second).
Two more are mapped for time: `comments.service` (every comment written passes through it)
and `posts.queries` (every list and every post written); unmapped, a survivor of theirs ran
hundreds of tests and the module's run took hours on the 2-core machine.

A function of these modules that only other tests call is left with no test at all, which
mutmut reports as "no tests": add the test that is about it here, never leave it silent.
The map acts only under mutmut, which names the mutant in MUTANT_UNDER_TEST: in a mutant's
own run, and in the clean run (the name empty) when `make mutate MODULES=...` names only
modules of the map (the clean run checks that the tests the mutants will run pass). The
trace of which test calls what, and `make test`, see every test.
"""

import os

import pytest

TESTS: dict[str, tuple[str, ...]] = {
    "fastblog.accounts.tokens": (
        "tests/auth/test_tokens.py",
        "tests/auth/test_token_revocation.py",
    ),
    "fastblog.throttle": (
        "tests/auth/test_throttle_store.py",
        "tests/auth/test_throttle.py",
    ),
    "fastblog.posts.markdown": (
        "tests/posts/test_markdown.py",  # the renderer alone, no app: milliseconds
        "tests/media/test_figures.py",
        "tests/posts/test_xss.py",
        "tests/posts/test_input_rules.py",  # tags, through the form and the API
        "tests/posts/test_publishing.py",
        "tests/media/test_share_card.py",  # the first picture
        "tests/posts/test_api.py",
        "tests/posts/test_article.py",  # the excerpt as the page's description
        "tests/posts/test_feeds.py",
        "tests/search/test_search_api.py",  # the text search indexes, snippets cut from it
        "tests/web/test_contrast.py",  # the code stylesheet
    ),
    "fastblog.limits": (
        "tests/auth/test_body_limits.py",
        "tests/users/test_account_pictures.py",  # a picture's own, larger limit
    ),
    "fastblog.accounts.dependencies": (
        "tests/auth/test_tokens.py",  # the bearer token: 401, its challenge, a deleted account
        "tests/auth/test_token_revocation.py",  # a token or a browser from before a change
        "tests/auth/test_forms.py",  # the session: log in, log out, the header, next=
        "tests/users/test_api.py",  # an unknown account is 404, "User not found"
        "tests/users/test_account_deletion.py",  # another browser of a deleted account
        "tests/users/test_account_authorization.py",  # the account a path names: 401, 403
        "tests/auth/test_password_change.py",  # the other browsers logged out
        "tests/web/test_error_pages.py",  # the header of an error page (load_page_user)
        "tests/posts/test_authorization.py",  # a form that changes data needs a login
        "tests/auth/test_password_reset.py",  # the mail throttle; a reset logs browsers out
        "tests/auth/test_throttle.py",  # the throttle, keyed by the client's address
        "tests/posts/test_api.py",  # a deleted account's token cannot post
        "tests/social/test_likes.py",  # with a token, a list says which posts you like
    ),
    "fastblog.comments.service": (
        "tests/comments/test_authorization.py",  # who may delete which comment; the log
        "tests/comments/test_moderation.py",  # who waits; approve, reject; the log
        "tests/comments/test_api.py",  # create and delete through the API: shapes, 404s
        "tests/comments/test_gone_meanwhile.py",  # a comment deleted as it is approved: 404
        "tests/comments/test_sanitization.py",  # what the body becomes
        "tests/comments/test_comment_link_schemes.py",
        "tests/comments/test_comments_beside_a_visible_post.py",  # a draft takes none
        "tests/comments/test_admin_page.py",  # the queue's Approve and Delete forms
        "tests/comments/test_views.py",  # the form, the delete page and its buttons
        "tests/comments/test_moderators.py",
        "tests/comments/test_counts.py",
    ),
    "fastblog.posts.queries": (
        "tests/posts/test_keyset.py",  # cursors both ways, the drafts' cursor, each page's total
        "tests/posts/test_publishing.py",  # drafts, scheduled posts, tags, posts in review
        "tests/posts/test_feed_visibility.py",
        "tests/social/test_likes.py",  # `liked` in a list and on a post
        "tests/social/test_follows.py",  # the follow feed's rows (post_of)
        "tests/posts/test_api.py",  # a post's shape: created, read back, listed
        "tests/posts/test_views.py",  # the home page's pages
        "tests/posts/test_authorization.py",  # a draft's page: its author only
        "tests/posts/test_list_counts.py",  # the totals of the list, a user's, a tag's
        "tests/posts/test_scheduled_totals.py",  # scheduled posts in the totals, by day
        "tests/users/test_profile.py",  # the author's bio and website under a post
    ),
    "fastblog.web.session": (
        "tests/auth/test_forms.py",  # CSRF, flashes, next=, the cookie only on pages
        "tests/test_input.py",  # form errors in plain words
        "tests/auth/test_signup.py",
        "tests/users/test_account_authorization.py",  # the login redirect; form values kept
        "tests/users/test_account_deletion.py",  # the CSRF token of a form
        "tests/auth/test_password_change.py",
        "tests/posts/test_authorization.py",  # the login redirect of a post's forms
        "tests/users/test_account_pictures.py",  # a picture's error, shown after a redirect
        "tests/comments/test_views.py",  # a comment's form: its errors, and back to the post
        "tests/test_errors.py",
    ),
}


def _files(mutant: str | None) -> tuple[str, ...] | None:
    if mutant is None:  # not under mutmut
        return None
    if "__mutmut_" in mutant:  # "fastblog.limits.x_readable_size__mutmut_3"
        return TESTS.get(mutant.rpartition(".")[0])
    if mutant == "":  # the clean run: the modules `make mutate` names, if all are mapped
        modules = [f"fastblog.{name}" for name in os.environ.get("MUTATE_MODULES", "").split()]
        if modules and all(module in TESTS for module in modules):
            return tuple(dict.fromkeys(path for module in modules for path in TESTS[module]))
    return None


def keep_the_mapped_tests(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under mutmut, for the modules in TESTS, deselect every test not listed for them."""
    files = _files(os.environ.get("MUTANT_UNDER_TEST"))
    if files is None:
        return
    rank = {path: n for n, path in enumerate(files)}
    kept = [item for item in items if item.nodeid.partition("::")[0] in rank]
    config.hook.pytest_deselected(items=[item for item in items if item not in kept])
    items[:] = sorted(kept, key=lambda item: rank[item.nodeid.partition("::")[0]])
