"""The blog that the course migrates (config, database, models, main) and, in
`workshop_app.workshop`, the plumbing that runs the course around it."""
