"""The built-in model zoo. Every model is rebuilt from a JSON-able config dict, the one stored in
a trained model's config.json: `build_model(config)` gives the same architecture back."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence

from modelplaza.train.recipe import CNNSpec, MLPSpec, RNNSpec, TransformerSpec

ACTIVATIONS: dict[str, type[nn.Module]] = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh}


@dataclass(frozen=True)
class InputSpec:
    """What one example looks like: its tensor shape, and for token ids the vocabulary."""

    shape: tuple[int, ...]
    vocab_size: int | None = None
    pad_id: int = 0


def model_config(
    spec: MLPSpec | CNNSpec | RNNSpec | TransformerSpec, inputs: InputSpec, outputs: int, dropout: float
) -> dict[str, Any]:
    """The build config for a recipe's model given the prepared inputs and the output size."""
    common = {"type": spec.type, "out_features": outputs, "dropout": dropout}
    if isinstance(spec, MLPSpec):
        sizes = spec.model_dump(include={"hidden", "activation"})
        return common | sizes | {"in_features": math.prod(inputs.shape)}
    if isinstance(spec, CNNSpec):
        sizes = spec.model_dump(include={"channels", "kernel_size", "hidden", "activation"})
        return common | sizes | {"in_shape": list(inputs.shape)}
    if inputs.vocab_size is not None:
        embedding = {"vocab_size": inputs.vocab_size, "pad_id": inputs.pad_id}
    else:
        embedding = {"input_size": inputs.shape[-1] if len(inputs.shape) == 2 else 1}
    if isinstance(spec, RNNSpec):
        sizes = spec.model_dump(include={"cell", "hidden_size", "num_layers", "bidirectional"})
        if inputs.vocab_size is not None:
            embedding["embedding_dim"] = spec.embedding_dim
        return common | sizes | embedding
    sizes = spec.model_dump(include={"d_model", "num_heads", "num_layers", "dim_feedforward"})
    return common | sizes | embedding | {"max_length": inputs.shape[0]}


def build_model(config: dict[str, Any]) -> nn.Module:
    """A freshly initialised model from its config (see model_config)."""
    options = {key: value for key, value in config.items() if key != "type"}
    return BUILDERS[config["type"]](**options)


def forward_batched(model: nn.Module, features: torch.Tensor, rows: int = 512) -> torch.Tensor:
    """The model's outputs for many rows, computed a slice at a time to bound memory."""
    return torch.cat([model(features[start : start + rows]) for start in range(0, len(features), rows)])


def _given(size: int | None, name: str) -> int:
    """A size that the config of a model over this kind of input must hold."""
    if size is None:
        raise ValueError(f"The model config lacks {name!r}")
    return size


def _dense(sizes: list[int], activation: str, dropout: float) -> list[nn.Module]:
    """Linear layers between consecutive sizes, each followed by the activation and dropout."""
    layers: list[nn.Module] = []
    for size_in, size_out in zip(sizes, sizes[1:], strict=False):
        layers += [nn.Linear(size_in, size_out), ACTIVATIONS[activation](), nn.Dropout(dropout)]
    return layers


class MLP(nn.Sequential):
    def __init__(
        self,
        in_features: int,
        hidden: list[int],
        out_features: int,
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        super().__init__(
            nn.Flatten(),
            *_dense([in_features, *hidden], activation, dropout),
            nn.Linear(hidden[-1] if hidden else in_features, out_features),
        )


class CNN(nn.Sequential):
    """Conv blocks (conv, activation, 2x2 max-pool while the image is at least 2x2), then dense layers."""

    def __init__(
        self,
        in_shape: list[int],
        channels: list[int],
        kernel_size: int,
        hidden: list[int],
        out_features: int,
        activation: str = "relu",
        dropout: float = 0.0,
    ) -> None:
        layers: list[nn.Module] = []
        depth, height, width = in_shape
        for width_out in channels:
            layers += [nn.Conv2d(depth, width_out, kernel_size, padding="same"), ACTIVATIONS[activation]()]
            if min(height, width) >= 2:
                layers.append(nn.MaxPool2d(2))
                height, width = height // 2, width // 2
            depth = width_out
        flat = depth * height * width
        layers += [nn.Flatten(), nn.Dropout(dropout), *_dense([flat, *hidden], activation, dropout)]
        super().__init__(*layers, nn.Linear(hidden[-1] if hidden else flat, out_features))


class RNN(nn.Module):
    """An LSTM or GRU over token ids (embedded, padding skipped) or numeric sequences; the last
    layer's final hidden state (both directions) feeds the output layer."""

    def __init__(
        self,
        cell: str,
        hidden_size: int,
        num_layers: int,
        bidirectional: bool,
        out_features: int,
        dropout: float = 0.0,
        vocab_size: int | None = None,
        embedding_dim: int | None = None,
        input_size: int | None = None,
        pad_id: int = 0,
    ) -> None:
        super().__init__()
        self.pad_id = pad_id
        self.directions = 2 if bidirectional else 1
        if vocab_size:
            features = _given(embedding_dim, "embedding_dim")
            self.embedding: nn.Embedding | None = nn.Embedding(vocab_size, features, padding_idx=pad_id)
        else:
            features = _given(input_size, "input_size")
            self.embedding = None
        recurrent = {"lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = recurrent(
            features,
            hidden_size,
            num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
            bidirectional=bidirectional,
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size * self.directions, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sequence: torch.Tensor | PackedSequence
        if self.embedding is not None:
            lengths = (x != self.pad_id).sum(dim=1).clamp(min=1).cpu()
            sequence = pack_padded_sequence(
                self.embedding(x), lengths, batch_first=True, enforce_sorted=False
            )
        else:
            sequence = x.unsqueeze(-1) if x.dim() == 2 else x
        _, state = self.rnn(sequence)
        hidden = state[0] if isinstance(state, tuple) else state  # an LSTM also returns its cell state
        last = hidden[-self.directions :].transpose(0, 1).reshape(x.shape[0], -1)
        return self.head(self.dropout(last))


def sinusoidal_positions(length: int, width: int) -> torch.Tensor:
    """Fixed sine / cosine position encodings, one row per position."""
    position = torch.arange(length, dtype=torch.float32).unsqueeze(1)
    frequency = torch.exp(torch.arange(0, width, 2, dtype=torch.float32) * (-math.log(10000.0) / width))
    table = torch.zeros(length, width)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)[:, : width // 2]
    return table


class TransformerEncoderClassifier(nn.Module):
    """A transformer encoder (multi-head self-attention, sinusoidal positions) over token ids or
    numeric sequences, mean-pooled over the non-padding positions."""

    positions: torch.Tensor  # a buffer, registered in __init__

    def __init__(
        self,
        d_model: int,
        num_heads: int,
        num_layers: int,
        dim_feedforward: int,
        max_length: int,
        out_features: int,
        dropout: float = 0.0,
        vocab_size: int | None = None,
        input_size: int | None = None,
        pad_id: int = 0,
    ) -> None:
        super().__init__()
        self.pad_id = pad_id
        self.scale = math.sqrt(d_model)
        self.embedding = nn.Embedding(vocab_size, d_model, padding_idx=pad_id) if vocab_size else None
        self.project = None if vocab_size else nn.Linear(_given(input_size, "input_size"), d_model)
        self.register_buffer("positions", sinusoidal_positions(max_length, d_model), persistent=False)
        layer = nn.TransformerEncoderLayer(
            d_model, num_heads, dim_feedforward, dropout, batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(d_model, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.embedding is not None:
            padding = x == self.pad_id
            padding &= ~padding.all(dim=1, keepdim=True)  # an empty text attends to its padding
            hidden = self.embedding(x) * self.scale
        else:
            assert self.project is not None  # built whenever the embedding is not
            padding = None
            hidden = self.project(x.unsqueeze(-1) if x.dim() == 2 else x)
        hidden = self.encoder(hidden + self.positions[: hidden.shape[1]], src_key_padding_mask=padding)
        keep = (
            torch.ones_like(hidden[..., :1]) if padding is None else (~padding).unsqueeze(-1).to(hidden.dtype)
        )
        pooled = (hidden * keep).sum(dim=1) / keep.sum(dim=1)
        return self.head(self.dropout(self.norm(pooled)))


BUILDERS: dict[str, type[nn.Module]] = {
    "mlp": MLP,
    "cnn": CNN,
    "rnn": RNN,
    "transformer": TransformerEncoderClassifier,
}
