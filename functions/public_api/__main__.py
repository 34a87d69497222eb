"""`python -m public_api` prints the OpenAPI document (docs/openapi.json is this output)."""

import json

from public_api.routes import openapi_document

print(json.dumps(openapi_document(), indent=2, sort_keys=True))
