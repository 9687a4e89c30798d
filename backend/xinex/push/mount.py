"""What the push domain mounts: /push-tokens, and the APNs/FCM sender that notify's push medium and push
channels deliver through (retries run in notify's retrier, on notify's delivery ledger)."""

from xinex.notify.channels.push import set_push_sender
from xinex.push.router import router
from xinex.push.sender import ProviderPushSender

set_push_sender(ProviderPushSender())

API_ROUTERS = [router]  # under /api/v1
