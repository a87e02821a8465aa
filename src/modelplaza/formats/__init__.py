"""Dataset file formats, free of the hub: which files hold which split (``splits``) and reading
rows from one file (``tables``). The viewer (``modelplaza.data``) and a training job (which
reaches the plaza over HTTP only) both use them, so nothing here touches the database or the
blob store."""
