"""What the billing domain mounts: its API routers and the grace/event sweeper."""

from xinex.billing import jobs
from xinex.billing.router import public_router, router

API_ROUTERS = [router, public_router]  # under /api/v1
BACKGROUND = [jobs.run_billing_sweeper]  # fn(db, stop_event)
JOBS = [jobs.process_stripe_event]  # enqueued after the commit that stores a Stripe event
