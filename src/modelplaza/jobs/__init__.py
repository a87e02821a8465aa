"""The job system: the kinds of job (``kinds``, one registry; each kind a module of its own),
submission (``submission``), a database-backed queue (``queue``), the worker loop (``worker``)
that has an executor (``executors``: a local process per job today) run each job, and the
runner that a job process executes (``runner``).

A job is a hub client. It reads its inputs and writes its outputs through the plaza's HTTP
API with a bearer token scoped to it (``worker.job_token``: the repos its kind says its spec
reads and writes, and its own job), and reports to the native jobs API:

- ``GET  /api/jobs/{id}``          the job, with its ``spec``
- ``POST /api/jobs/{id}/events``   ``{"events": [{"kind": "metrics"|"log", "data": {...}}, ...]}``
- ``POST /api/jobs/{id}/result``   ``{"result": {...}}`` once its outputs are committed

Nothing in a job touches the database or the blob store directly, so the same job code can run
on another machine later."""
