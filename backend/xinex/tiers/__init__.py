"""Plans (free, pro, team, enterprise), their limits and the one gating helper."""
