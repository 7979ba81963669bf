"""Module `api_docs`: version, OpenAPI document, Markdown rendering and the explorer page."""

from mercato.kernel.module import Module


def _routers():  # noqa: ANN202
    from mercato.modules.api_docs.routes import pages, router

    return [router, pages]


module = Module(
    id="api_docs",
    title="API Documentation",
    description="Deployed version and the generated OpenAPI documentation.",
    routers=_routers,
    order=900,
)
