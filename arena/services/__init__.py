"""Use cases: each public function is one unit of work on a session (commit or roll back)."""
