"""The README's digits CNN recipe written as a plain PyTorch script: the reference that
``train_bench.py`` holds the plaza's job system to.

It does what the recipe asks and the training job does, with torch alone: read the train /
validation / test Parquet files, scale each pixel to [0, 1] with the training split's minimum and
maximum, reshape to 1x8x8 images, build the same CNN (conv 16 and 32 channels, 3x3, each followed
by ReLU and 2x2 max-pooling; dense 64; 10 outputs) from the same seed, train it with Adam
(lr 0.003) on cross-entropy for 10 epochs of batches of 32 shuffled by a seeded generator,
evaluate on validation after each epoch (loss, accuracy, macro precision / recall / F1) keeping
the best epoch's weights by validation loss, score them on test, and save them as safetensors.

    python bench/plain_digits_cnn.py DATA_DIR OUTPUT_DIR

prints the seconds the training took (the epochs with their validation, and the test scores:
what the job's "Trained in" line counts) and the test accuracy."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import torch
from safetensors.torch import save_model
from torch import nn

SEED, EPOCHS, BATCH, LR, CLASSES = 0, 10, 32, 0.003, 10


def load(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    table = pq.read_table(path)
    pixels = [name for name in table.column_names if name.startswith("pixel_")]
    features = torch.stack([torch.tensor(table.column(n).to_numpy(), dtype=torch.float32) for n in pixels], 1)
    return features, torch.tensor(table.column("label").to_numpy(), dtype=torch.long)


def cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding="same"),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding="same"),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 2 * 2, 64),
        nn.ReLU(),
        nn.Linear(64, CLASSES),
    )


@torch.no_grad()
def evaluate(model: nn.Module, features: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    model.eval()
    outputs = model(features)
    predicted = outputs.argmax(dim=1)
    classes = torch.unique(torch.cat([labels, predicted]))
    hits = torch.stack([((predicted == c) & (labels == c)).sum() for c in classes]).float()
    precision = hits / torch.stack([(predicted == c).sum() for c in classes]).clamp(min=1)
    recall = hits / torch.stack([(labels == c).sum() for c in classes]).clamp(min=1)
    f1 = torch.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    return {
        "loss": nn.functional.cross_entropy(outputs, labels).item(),
        "accuracy": (predicted == labels).float().mean().item(),
        "precision": precision.mean().item(),
        "recall": recall.mean().item(),
        "f1": f1.mean().item(),
    }


def main(data: Path, output: Path) -> None:
    splits = {name: load(data / f"{name}-00000-of-00001.parquet") for name in ("train", "validation", "test")}
    low, high = splits["train"][0].min(dim=0).values, splits["train"][0].max(dim=0).values
    span = torch.where(high > low, high - low, 1.0)
    images = {name: ((x - low) / span).reshape(-1, 1, 8, 8) for name, (x, _) in splits.items()}
    labels = {name: y for name, (_, y) in splits.items()}

    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True, warn_only=True)
    model = cnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    loss_function = nn.CrossEntropyLoss()
    shuffle = torch.Generator().manual_seed(SEED)
    best_loss, best_state = float("inf"), None
    started = time.perf_counter()
    for _ in range(EPOCHS):
        model.train()
        order = torch.randperm(len(labels["train"]), generator=shuffle)
        for start in range(0, len(order), BATCH):
            rows = order[start : start + BATCH]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_function(model(images["train"][rows]), labels["train"][rows])
            loss.backward()
            optimizer.step()
        validation = evaluate(model, images["validation"], labels["validation"])
        if validation["loss"] < best_loss:
            best_loss = validation["loss"]
            best_state = {name: value.detach().clone() for name, value in model.state_dict().items()}
    model.load_state_dict(best_state)
    test = evaluate(model, images["test"], labels["test"])
    trained = time.perf_counter() - started

    output.mkdir(parents=True, exist_ok=True)
    save_model(model, str(output / "model.safetensors"))
    print(f"trained {trained:.3f}")
    print(f"test_accuracy {test['accuracy']:.6f}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
