"""The baseline: a bare FastAPI hello-world served the same way as Xinex."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/hello")
async def hello() -> dict:
    return {"hello": "world"}
