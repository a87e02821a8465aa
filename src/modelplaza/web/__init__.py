"""The plaza in the browser: server-rendered pages (Jinja2 + htmx) over the same domain calls as
the API. ``app.install`` adds the pages to the ASGI app; each module in ``views/`` is one kind
of page; ``templates/`` and ``static/`` ship inside the package (no build step, nothing fetched
from the internet)."""
