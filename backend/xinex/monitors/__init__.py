"""Uptime monitors: http(s)/tcp/dns/tls checks, confirmation/recovery, scheduler, remote probes."""
