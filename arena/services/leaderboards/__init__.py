"""Leaderboards: reading boards (boards), publishing snapshots (publishing), chart data (plots)."""
