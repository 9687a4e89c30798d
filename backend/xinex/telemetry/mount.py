"""What the telemetry domain mounts: /dsl, /telemetry/*, /annotations, and (embedded) the OTLP receivers."""

from xinex.annotations.router import router as annotations_router
from xinex.telemetry.receivers import run_embedded
from xinex.telemetry.router import router as telemetry_router

API_ROUTERS = [telemetry_router, annotations_router]  # under /api/v1
BACKGROUND = [run_embedded]  # fn(db, stop_event): OTLP gRPC + HTTP inside `xinex run`
