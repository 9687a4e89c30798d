"""Mobile push: the devices users register (`/push-tokens`) and delivery of pages to them over APNs and
FCM, inside notify's delivery ledger (docs/mobile.md)."""
