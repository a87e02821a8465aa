"""ModelPlaza: a self-hosted model plaza for sharing, training, evaluating and serving models."""

__version__ = "0.1.0"


def load_model(
    repo_id: str, revision: str | None = None, endpoint: str | None = None, token: str | None = None
):
    """A model trained on the plaza, downloaded from its hub and ready to predict (a
    `modelplaza.train.export.Predictor`). Needs the `train` extra."""
    from huggingface_hub import snapshot_download

    from modelplaza.train.export import load_model as load_saved

    return load_saved(snapshot_download(repo_id, revision=revision, endpoint=endpoint, token=token))
