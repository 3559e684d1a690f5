"""The operators' use cases (the admin): catalog, competitions and prompts, generation runs,
output moderation, snapshots and the dashboard; ``forms`` holds their shared form checks."""
