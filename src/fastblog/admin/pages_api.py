"""The static pages' API: anyone reads, editors and above write."""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import FastAPI, Path, Request, Response, status
from fastapi.exceptions import RequestValidationError
from starlette.routing import BaseRoute

from fastblog.admin import page_service
from fastblog.admin.page_schemas import SLUG_CHARS, PageCreate, PageList, PagePublic, PageUpdate
from fastblog.admin.permissions import PAGES_FORBIDDEN, ApiEditorDep
from fastblog.dependencies import DatabaseDep, ResourcesDep
from fastblog.exceptions import InvalidInputError, NotFoundError
from fastblog.params import TOO_LARGE, UNAVAILABLE, Responses, error
from fastblog.routing import api_router
from fastblog.site.pages import fetch_page

router = api_router(prefix="/api/pages", tags=["site"], responses=UNAVAILABLE)

SlugPath = Annotated[str, Path(max_length=SLUG_CHARS, description="The page's slug.")]
E401: Responses = {status.HTTP_401_UNAUTHORIZED: error("Missing, invalid or expired token")}
E403: Responses = {status.HTTP_403_FORBIDDEN: error(PAGES_FORBIDDEN)}
E404: Responses = {status.HTTP_404_NOT_FOUND: error("Page not found")}


# Taken whatever this process serves: routes that settings switch on (LAB_ENABLED, S3's /media).
ALWAYS_TAKEN = frozenset({"admin", "api", "lab", "media", "static"})


def first_segments(routes: Iterable[BaseRoute]) -> frozenset[str]:
    """The first path segment of each route (posts, login, docs, ...): a page there would be
    hidden behind the route, or hide it."""
    first = (str(getattr(route, "path", "")).strip("/").split("/")[0] for route in routes)
    return ALWAYS_TAKEN | {segment for segment in first if segment and "{" not in segment}


def site_routes(app: FastAPI) -> frozenset[str]:
    """What create_app noted once every route was added (fastblog.main)."""
    taken: frozenset[str] = app.state.route_segments
    return taken


@contextmanager
def as_field_error() -> Iterator[None]:
    """A service's refusal of one field, answered like any invalid field: a 422 naming it."""
    try:
        yield
    except InvalidInputError as exc:
        loc = ("body", exc.field) if exc.field else ("body",)
        detail = [{"type": "value_error", "loc": loc, "msg": exc.message, "input": None}]
        raise RequestValidationError(detail) from exc


@router.get("", response_model=PageList)
async def list_pages(db: DatabaseDep) -> dict[str, Any]:
    """Every static page, by slug."""
    return {"pages": await page_service.list_pages(db)}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=PagePublic,
    responses=E401 | E403 | TOO_LARGE,
)
async def create_page(
    request: Request, data: PageCreate, editor: ApiEditorDep, resources: ResourcesDep
) -> dict[str, Any]:
    """Write a static page (editor, admin or owner), served at /{slug}."""
    with as_field_error():
        return await page_service.create_page(
            resources.database,
            resources.process_pool,
            **data.model_dump(),
            taken=site_routes(request.app),
            external_images=resources.settings.external_images,
        )


@router.get("/{slug}", response_model=PagePublic, responses=E404)
async def read_page(slug: SlugPath, db: DatabaseDep) -> dict[str, Any]:
    """One static page."""
    page = await fetch_page(db, slug)
    if page is None:
        raise NotFoundError("Page not found")
    return {**page, "url": f"/{page['slug']}"}


@router.patch("/{slug}", response_model=PagePublic, responses=E401 | E403 | E404 | TOO_LARGE)
async def change_page(
    request: Request,
    slug: SlugPath,
    data: PageUpdate,
    editor: ApiEditorDep,
    resources: ResourcesDep,
) -> dict[str, Any]:
    """Change a page's title, slug or content; what is left out stays as it is."""
    with as_field_error():
        return await page_service.change_page(
            resources.database,
            resources.process_pool,
            slug=slug,
            changes=data.model_dump(exclude_unset=True),
            taken=site_routes(request.app),
            external_images=resources.settings.external_images,
        )


@router.delete("/{slug}", status_code=status.HTTP_204_NO_CONTENT, responses=E401 | E403 | E404)
async def delete_page(slug: SlugPath, editor: ApiEditorDep, db: DatabaseDep) -> Response:
    """Delete a page (and take it out of the navigation yourself)."""
    await page_service.delete_page(db, slug=slug)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
