"""A corpus of XSS payloads (after OWASP's filter-evasion cheat sheet) in titles, Markdown
content, Markdown links and images, and tags: every page and the API's content_html stay inert.
The HTML is parsed, as a browser would read it: no script element, no on* attribute, no
javascript:/data:/vbscript: URL; a JSON-LD data block is whole JSON (nothing ended it early)."""

import json
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from tests.accounts import browser_login, submit
from tests.factories import api_create_post, make_user
from tests.posts.markup import read_markup

pytestmark = pytest.mark.anyio

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://xss.example/xss.js></SCRIPT>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=javascript:alert('XSS')>",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    "<IMG SRC=`javascript:alert(\"RSnake says, 'XSS'\")`>",
    '<IMG """><SCRIPT>alert("XSS")</SCRIPT>">',
    "<IMG SRC=# onmouseover=\"alert('xxs')\">",
    '<IMG SRC=/ onerror="alert(String.fromCharCode(88,83,83))"></img>',
    '<img src=x onerror="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114'
    "&#0000105&#0000112&#0000116&#0000058&#0000097&#0000108&#0000101&#0000114&#0000116"
    '&#0000040&#0000039&#0000088&#0000083&#0000083&#0000039&#0000041">',
    "<IMG SRC=\"jav\tascript:alert('XSS');\">",
    "<IMG SRC=\"jav&#x0A;ascript:alert('XSS');\">",
    "<IMG SRC=\" &#14;  javascript:alert('XSS');\">",
    '<SCRIPT/XSS SRC="https://xss.example/xss.js"></SCRIPT>',
    '<BODY onload!#$%&()*~+-_.,:;?@[/|\\]^`=alert("XSS")>',
    '<<SCRIPT>alert("XSS");//\\<</SCRIPT>',
    "<SCRIPT SRC=//xss.example/.j>",
    "<IMG SRC=\"`<javascript:alert>`('XSS')\"",
    '</TITLE><SCRIPT>alert("XSS");</SCRIPT>',
    '<INPUT TYPE="IMAGE" SRC="javascript:alert(\'XSS\');">',
    "<svg/onload=alert('XSS')>",
    '<svg><script xlink:href="data:,alert(1)"></script></svg>',
    '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">XSS</text></a></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph>",
    "<BGSOUND SRC=\"javascript:alert('XSS');\">",
    '<LINK REL="stylesheet" HREF="javascript:alert(\'XSS\');">',
    "<STYLE>@import'https://xss.example/xss.css';</STYLE>",
    '<META HTTP-EQUIV="refresh" CONTENT="0;url=javascript:alert(\'XSS\');">',
    "<IFRAME SRC=\"javascript:alert('XSS');\"></IFRAME>",
    "<TABLE BACKGROUND=\"javascript:alert('XSS')\">",
    "<DIV STYLE=\"background-image: url(javascript:alert('XSS'))\">",
    '<OBJECT TYPE="text/x-scriptlet" DATA="https://xss.example/scriptlet.html"></OBJECT>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>',
    "<!--[if gte IE 4]><SCRIPT>alert('XSS');</SCRIPT><![endif]-->",
    '<details open ontoggle="alert(1)">',
    '"><script>alert(document.cookie)</script>',
    "'';!--\"<XSS>=&{()}",
]
# The same ideas through Markdown's own syntax: links, images, autolinks, reference links.
MARKDOWN_PAYLOADS = [
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1)  )",
    "[click](java&#x09;script:alert(1))",
    "[click](&#x6A;avascript:alert(1))",
    "[click](javascript&#58;alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](javascript:alert(1))",
    "![img](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '![img](https://x.example/a.png"onerror="alert(1))',
    '[click](https://x.example/ "title\\" onmouseover=\\"alert(1)")',
    "<javascript:alert(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    "[ref]\n\n[ref]: javascript:alert(1)",
    '```"><script>alert(1)</script>\nx\n```',
    "```python onload=alert(1)\nx = 1\n```",
    "| a |\n|---|\n| <script>alert(1)</script> |",
    "~~<img src=x onerror=alert(1)>~~",
]
CORPUS = PAYLOADS + MARKDOWN_PAYLOADS


def assert_inert(html: str, where: str) -> None:
    markup = read_markup(html)
    assert markup.scripts == 0, where
    # JSON-LD is data, not code: whole (nothing in it ended the element early) and JSON.
    for block in markup.data_blocks:
        assert "<" not in block, where
        json.loads(block)
    assert markup.handlers == [], where
    assert markup.dangerous_urls == [], where
    assert not any("url(" in style or "expression" in style for style in markup.styles), where


async def test_the_renderer_makes_every_payload_inert(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session)
    for n, payload in enumerate(CORPUS):
        created = await api_create_post(
            client, author, title=payload[:100], content=f"Before {n}\n\n{payload}\n\nAfter"
        )
        assert created.status_code == 201, created.text
        post = created.json()
        assert_inert(post["content_html"], payload)
        assert post["content"] == f"Before {n}\n\n{payload}\n\nAfter"  # the source, as written


async def test_pages_with_every_payload_are_inert(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    author = await make_user(session, username="<svg/onload=alert(1)>")
    content = "\n\n".join(CORPUS)
    created = await api_create_post(
        client, author, title=PAYLOADS[7][:100], content=content, tags=["xss"]
    )
    assert created.status_code == 201, created.text
    post = created.json()
    assert_inert(post["content_html"], "API")
    assert_inert((await client.get(f"/api/posts/{post['id']}")).json()["content_html"], "API")

    pages = [
        "/",
        "/?tag=xss",
        "/tags/xss",
        f"/posts/{post['id']}/{post['slug']}",
        f"/users/{author.id}/posts",
    ]
    for path in pages:
        response = await client.get(path)
        assert response.status_code == 200, path
        assert_inert(response.text, path)

    await browser_login(client, author)
    for path in ("/drafts", f"/posts/{post['id']}/edit"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert_inert(response.text, path)
    preview = await submit(
        client, "/posts/new", {"title": "t", "content": content, "action": "preview"}
    )
    assert preview.status_code == 200
    assert "Preview" in preview.text
    assert_inert(preview.text, "preview")


@pytest.mark.parametrize("payload", [p for p in PAYLOADS if len(p) <= 120][:12])
async def test_a_payload_as_a_tag_is_refused_and_a_filter_is_inert(
    client: httpx.AsyncClient, session: AsyncSession, payload: str
) -> None:
    author = await make_user(session)

    created = await api_create_post(client, author, tags=[payload])

    assert created.status_code == 422
    assert [error["loc"] for error in created.json()["detail"]] == [["body", "tags"]]
    listing = await client.get("/", params={"tag": payload})
    assert listing.status_code == 200
    assert_inert(listing.text, payload)
    tag_page = await client.get(f"/tags/{quote(payload, safe='')}")
    assert tag_page.status_code in (404, 422)
    assert_inert(tag_page.text, payload)


async def test_a_payload_in_a_form_comes_back_inert(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await browser_login(client, await make_user(session))

    response = await submit(
        client, "/posts/new", {"title": "", "content": PAYLOADS[0], "tags": PAYLOADS[1]}
    )

    assert response.status_code == 422
    assert_inert(response.text, "form")
