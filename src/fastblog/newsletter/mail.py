"""A post as a newsletter mail: HTML with absolute links and picture addresses and its styles
inlined (mail clients drop <style> and never run scripts), and a plain-text part.

`render_issue` is CPU work (sanitizing, inlining CSS) done once per post, in the process pool
(it is top-level and its arguments and result pickle). Each subscriber's copy only replaces
UNSUBSCRIBE_MARK with their own token.
"""

import html as html_escape
from dataclasses import dataclass

import css_inline
import nh3

UNSUBSCRIBE_MARK = "UNSUBSCRIBE-TOKEN-3f1c"

STYLESHEET = """
body { margin: 0; padding: 0; background: #f6f6f4; }
.wrap { max-width: 640px; margin: 0 auto; padding: 24px; background: #ffffff;
        font-family: Georgia, 'Times New Roman', serif; font-size: 17px; line-height: 1.6;
        color: #222222; }
h1 { font-size: 28px; line-height: 1.25; margin: 0 0 8px; }
h2, h3 { line-height: 1.3; }
a { color: #1a5fb4; }
img { max-width: 100%; height: auto; }
pre { background: #f3f3f3; padding: 12px; overflow-x: auto; font-size: 14px; }
code { font-family: Menlo, Consolas, monospace; font-size: 14px; }
blockquote { margin: 0; padding-left: 16px; border-left: 3px solid #dddddd; color: #555555; }
.byline { color: #666666; font-size: 14px; margin: 0 0 24px; }
.footer { color: #777777; font-size: 13px; border-top: 1px solid #e5e5e5; margin-top: 32px;
          padding-top: 12px; }
"""

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><div class="wrap">
<h1><a href="{post_url}">{title}</a></h1>
<p class="byline">{author} on <a href="{site_url}">{site}</a></p>
{content}
<p><a href="{post_url}">Read it on {site}</a></p>
<p class="footer">You receive this because you subscribed to {site}.
<a href="{site_url}/unsubscribe/{mark}">Unsubscribe or manage your subscriptions</a>.</p>
</div></body></html>
"""

TEXT = """{title}
{author} on {site}

{text}

Read it on the site: {post_url}

--
You receive this because you subscribed to {site}.
Unsubscribe or manage your subscriptions: {site_url}/unsubscribe/{mark}
"""


@dataclass(frozen=True, slots=True)
class IssueMail:
    subject: str
    html: str
    text: str


def render_issue(
    *,
    title: str,
    content_html: str,
    text: str,
    author: str,
    site: str,
    site_url: str,
    post_url: str,
) -> IssueMail:
    """The mail for one post, with UNSUBSCRIBE_MARK where each subscriber's token goes."""
    # Already sanitized when the post was written; cleaned again here to make every relative
    # link and picture address absolute (a mail has no base address).
    content = nh3.clean(content_html, url_relative=("rewrite_with_base", f"{site_url}/"))
    page = PAGE.format(
        title=html_escape.escape(title),
        author=html_escape.escape(author),
        site=html_escape.escape(site),
        site_url=html_escape.escape(site_url),
        post_url=html_escape.escape(post_url),
        content=content,
        mark=UNSUBSCRIBE_MARK,
    )
    inliner = css_inline.CSSInliner(extra_css=STYLESHEET, load_remote_stylesheets=False)
    plain = TEXT.format(
        title=title,
        author=author,
        site=site,
        text=text,
        post_url=post_url,
        site_url=site_url,
        mark=UNSUBSCRIBE_MARK,
    )
    return IssueMail(subject=title, html=inliner.inline(page), text=plain)
