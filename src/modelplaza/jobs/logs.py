"""A job's log as text: its log lines, and its state changes in brackets. The plaza serves it
this way and ``plaza jobs logs --follow`` prints the stream the same way."""

from __future__ import annotations


def log_line(kind: str, data: dict) -> str | None:
    """The line an event shows in the log; None for metrics (the curves show those)."""
    if kind == "log":
        return str(data.get("line", ""))
    if kind == "state":
        message = data.get("message") or (f"on worker {data['worker']}" if data.get("worker") else "")
        return f"[{data.get('state')}]" + (f" {message}" if message else "")
    return None
