"""On-call: routing rules, escalation policies and their runner, schedules, pages."""
