"""What the telemetry domain mounts: /dsl, /telemetry/*, and (embedded) the OTLP receivers."""

from xinex.kit.loops import Loop
from xinex.telemetry.receivers import run_embedded
from xinex.telemetry.router import router as telemetry_router

API_ROUTERS = [telemetry_router]  # under /api/v1
# OTLP gRPC + HTTP inside `xinex run` only (`xinex otlp` in production); not restarted: a taken port stays taken.
BACKGROUND = [Loop("telemetry.otlp_receivers", run_embedded, embedded_only=True, restart=False)]
