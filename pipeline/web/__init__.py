"""The 督查台账 web app (issue 12): Starlette + Jinja2 over the same ledger models.

`create_app(db_url)` builds the ASGI app; `speechledger serve` runs it under uvicorn.
"""
