"""What an OpenAPI document or a Postman collection says about authentication.

`openapi.read_openapi` and `postman.read_postman` return an `model.Imported`:
typed values that `configure --from-openapi` / `--from-postman` map onto their
settings.  A protocol-level layer: it reads documents (`document`), never
prompts, prints or stores anything.
"""
