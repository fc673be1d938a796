"""One router per resource, each mounted under /v1 by `api.app.create_app`."""
