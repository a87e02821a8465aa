"""Training: recipes (recipe.py, checks.py), the model zoo (models.py, finetune.py), data
preparation (data.py), optimisers and losses (optim.py, objectives.py), the loop (trainer.py)
and saving / loading trained models (export.py).

recipe.py and checks.py import neither torch nor transformers, so the server can validate a
recipe without the training extra installed."""
