"""The jobs API from the outside: what the CLI and a running job use. Plain HTTP with a bearer
token, so a job can run anywhere that can reach the plaza."""

from __future__ import annotations

import builtins
import json
from collections.abc import Iterator

import httpx

from modelplaza.errors import PlazaError


class JobsApiError(PlazaError):
    """The plaza refused a jobs request; the message is the plaza's own."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _error(response: httpx.Response) -> JobsApiError:
    return JobsApiError(response.status_code, response.headers.get("X-Error-Message") or response.text[:500])


class JobsClient:
    def __init__(self, endpoint: str, token: str | None, timeout: float = 60) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=endpoint.rstrip("/"), headers=headers, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> JobsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise JobsApiError(503, f"Cannot reach the plaza at {self.http.base_url}: {exc}") from None
        if response.status_code >= 400:
            raise _error(response)
        return response

    # For people (the CLI). Past list(), annotations say builtins.list: there ``list`` is that method.

    def submit(self, recipe: str, kind: str = "train") -> dict:
        return self._call("POST", "/api/jobs", json={"kind": kind, "recipe": recipe}).json()

    def list(self, state: str | None = None, limit: int = 50) -> list[dict]:
        params = {"limit": limit, **({"state": state} if state else {})}
        return self._call("GET", "/api/jobs", params=params).json()

    def get(self, job_id: int) -> dict:
        return self._call("GET", f"/api/jobs/{job_id}").json()

    def cancel(self, job_id: int) -> dict:
        return self._call("POST", f"/api/jobs/{job_id}/cancel").json()

    def logs(self, job_id: int) -> str:
        return self._call("GET", f"/api/jobs/{job_id}/logs").text

    def events(self, job_id: int, after: int = 0) -> builtins.list[dict]:
        return self._call("GET", f"/api/jobs/{job_id}/events", params={"after": after}).json()["events"]

    def stream(self, job_id: int, after: int = 0) -> Iterator[dict]:
        """Events as they happen (server-sent events), until the job has finished."""
        path = f"/api/jobs/{job_id}/stream"
        with self.http.stream("GET", path, params={"after": after}, timeout=None) as response:
            if response.status_code >= 400:
                response.read()
                raise _error(response)
            for line in response.iter_lines():
                if line.startswith("data:"):
                    yield json.loads(line[5:])

    # For the job itself (its token is scoped to it)

    def report(self, job_id: int, events: builtins.list[dict]) -> None:
        if events:
            self._call("POST", f"/api/jobs/{job_id}/events", json={"events": events})

    def set_result(self, job_id: int, result: dict) -> None:
        self._call("POST", f"/api/jobs/{job_id}/result", json={"result": result})
