"""Module `progress`: user-visible progress of background work (table `progress_jobs`, HTTP API, broadcasts).

Background work uses `mercato.modules.progress.service` (transaction-agnostic functions) or the provider
`registry.provider("progress")` -> `ProgressReporter`, which commits each step so pollers see it at once.
"""

from mercato.kernel.module import EventDecl, Feature, Module


def _routers():  # noqa: ANN202
    from mercato.modules.progress.routes import router

    return [router]


def _providers() -> dict:
    from mercato.kernel.extensions import IndexableEntity
    from mercato.modules.progress.models import ProgressJob
    from mercato.modules.progress.tracker import ProgressReporter

    return {
        "progress": ProgressReporter(),
        "indexable": [IndexableEntity("progress:progress_job", ProgressJob)],
    }


module = Module(
    id="progress",
    title="Progress",
    description="Progress tracking of long-running background jobs.",
    features=[
        Feature("progress.view", "View progress jobs"),
        Feature("progress.create", "Create progress jobs"),
        Feature("progress.update", "Update progress jobs"),
        Feature("progress.cancel", "Cancel progress jobs"),
        Feature("progress.manage", "Manage all progress jobs"),
    ],
    events=[
        EventDecl("progress.job.created", "Progress Job Created", entity="job", category="lifecycle", client_broadcast=True),
        EventDecl("progress.job.started", "Progress Job Started", entity="job", category="lifecycle", client_broadcast=True),
        EventDecl("progress.job.updated", "Progress Job Updated", entity="job", category="lifecycle", client_broadcast=True),
        EventDecl("progress.job.completed", "Progress Job Completed", entity="job", category="lifecycle", client_broadcast=True),
        EventDecl("progress.job.failed", "Progress Job Failed", entity="job", category="lifecycle", client_broadcast=True),
        EventDecl("progress.job.cancelled", "Progress Job Cancelled", entity="job", category="lifecycle", client_broadcast=True),
    ],
    default_grants={"admin": ["progress.*"], "employee": ["progress.view"]},
    routers=_routers,
    models="mercato.modules.progress.models",
    providers=_providers(),
    order=80,
)
