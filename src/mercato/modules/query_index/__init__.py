"""Module `query_index`: per-record JSON documents of indexable entities, coverage, reindex/purge jobs, logs.

Entity types are registered by their modules: `providers={"indexable": [IndexableEntity(entity_type, model,
to_doc)]}` (see `mercato.kernel.extensions.IndexableEntity`). The CRUD kernel maintains single documents through
the provider "query_index" (`QueryIndexProvider.upsert/delete`); `POST /api/query_index/reindex|purge` rebuild or
drop them in background jobs (`query_index.reindex`, `query_index.purge`) tracked in `entity_index_jobs` and
mirrored as progress jobs.
"""

from mercato.kernel.module import Feature, Module


def _routers():  # noqa: ANN202
    from mercato.modules.query_index.routes import router

    return [router]


def _providers() -> dict:
    from mercato.modules.query_index import workers  # noqa: F401  (registers the background jobs)
    from mercato.modules.query_index.provider import QueryIndexProvider

    return {"query_index": QueryIndexProvider()}


module = Module(
    id="query_index",
    title="Query Indexes",
    description="Entity index projections, coverage and rebuild jobs.",
    features=[
        Feature("query_index.status.view", "View query index status"),
        Feature("query_index.reindex", "Trigger query index reindex"),
        Feature("query_index.purge", "Purge query index"),
    ],
    default_grants={"admin": ["query_index.*"]},
    routers=_routers,
    models="mercato.modules.query_index.models",
    providers=_providers(),
    order=85,
)
