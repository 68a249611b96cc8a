"""The ceiling: a minimal FastAPI endpoint returning constant JSON, served like exportflow's API.

`python -m bench.ceiling_app PORT` serves it with `services.serve.api_server`, the same uvicorn
settings (one process, same log level) as `exportflow api`.
"""

from __future__ import annotations

import asyncio
import sys

from fastapi import FastAPI

from services.serve import api_server

app = FastAPI()


@app.get("/constant")
async def constant() -> dict[str, str]:
    """The cheapest JSON answer FastAPI can give."""
    return {"id": "ORD-CONSTANT", "state": "AWAITING_LICENSE"}


async def serve(port: int) -> None:
    """Serve until SIGTERM."""
    server = api_server(app, "127.0.0.1", port)
    server.install_stop_signals()
    await server.serve()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
