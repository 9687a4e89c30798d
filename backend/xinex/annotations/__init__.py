"""Annotations API: GET/POST /annotations, PUT/DELETE /annotations/{id}."""
