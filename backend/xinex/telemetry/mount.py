"""What the telemetry domain mounts: /dsl, /telemetry/*, and (embedded) the OTLP receivers."""

from xinex.telemetry.receivers import run_embedded
from xinex.telemetry.router import router as telemetry_router

API_ROUTERS = [telemetry_router]  # under /api/v1
BACKGROUND = [run_embedded]  # fn(db, stop_event): OTLP gRPC + HTTP inside `xinex run`
