"""GET /v1/health: no auth. Region, backend, log head and how far each read model has got;
503 (same body) when the projection runner has stopped, so that a load balancer notices."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import ContainerDep
from api.schemas import HealthView

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthView,
            responses={503: {"model": HealthView, "description": "Projections stopped."}})
def health(container: ContainerDep, response: Response) -> HealthView:
    error = container.runner.error
    if error is not None:
        response.status_code = 503
    return HealthView(
        status="ok" if error is None else "degraded",
        region=container.settings.region_code,
        backend=container.settings.backend,
        log_head=container.store.max_position(),
        projections=container.runner.positions(),
        runner_error=None if error is None else f"{type(error).__name__}: {error}",
    )
