"""The pages the API process serves outside /api/v1: the landing page and the API docs (assets served locally)."""
