"""Workshop plumbing: which PostgreSQL to use, the embedded server, the `workshop` command."""
