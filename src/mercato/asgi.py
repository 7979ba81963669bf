"""ASGI entry point: `uvicorn mercato.asgi:app`."""

from mercato.kernel.app import create_app

app = create_app()
