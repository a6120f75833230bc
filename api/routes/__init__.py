# The API's routers, one module per resource.
"""Each module defines one `router`; `api.app` mounts them all under `/v1`."""
