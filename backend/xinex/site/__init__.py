"""The pages the API process serves outside /api/v1: the web app (`frontend/dist`) and the API docs (assets served locally)."""
