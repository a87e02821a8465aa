"""The training recipe: what to train on, which model, how to optimise it, where to put it.

A recipe is YAML or JSON. `load_recipe` validates it completely before anything runs and
reports every problem as one line naming the field (`optimizer.lr: must be greater than 0,
got -0.1`). Checks that need the dataset itself live in checks.py."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from modelplaza.errors import BadRequest, InvalidName
from modelplaza.names import check_ref_name, split_repo_id
from modelplaza.train.recipe_errors import describe

CLASSIFICATION_LOSSES = ("cross_entropy", "nll", "bce", "multi_margin")
REGRESSION_LOSSES = ("mse", "l1", "huber", "smooth_l1")
CLASSIFICATION_METRICS = ("loss", "accuracy", "f1", "precision", "recall")
REGRESSION_METRICS = ("loss", "mse", "mae", "r2")
MINIMISED_METRICS = ("loss", "mse", "mae")

Task = Literal["classification", "regression"]


class RecipeError(BadRequest):
    """A recipe that cannot run; `problems` holds one 'field: what is wrong' line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems), problems=problems)
        self.problems = problems


def refuse(problems: dict[str, str]) -> None:
    """Fail validation of a model with (field relative to it -> message) problems, all at once."""
    if problems:
        summary = "; ".join(f"{field}: {message}" for field, message in problems.items())
        raise PydanticCustomError("recipe_problems", "{summary}", {"summary": summary, "problems": problems})


def _repo_id(value: str) -> str:
    try:
        split_repo_id(value)
    except InvalidName as error:
        raise ValueError(error.message) from None
    return value


def _ref(value: str) -> str:
    try:
        return check_ref_name(value)
    except InvalidName as error:
        raise ValueError(error.message) from None


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _as_named(key: str):
    """Lets `loss: mse` stand for `loss: {name: mse}`."""
    return BeforeValidator(lambda value: {key: value} if isinstance(value, str) else value)


RepoId = Annotated[str, BeforeValidator(_repo_id)]
Ref = Annotated[str, BeforeValidator(_ref)]
Size = Annotated[int, Field(ge=1, le=65536)]
Activation = Literal["relu", "gelu", "tanh"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def _unused(self, allowed: set[str], owner: str) -> dict[str, str]:
        """Options set in the recipe that `owner` does not take."""
        return {f: f"not used by {owner}" for f in sorted(self.model_fields_set - allowed)}


# --- data -------------------------------------------------------------------------------------


class Ratios(Strict):
    train: float = Field(gt=0, le=1)
    validation: float = Field(0.0, ge=0, lt=1)
    test: float = Field(0.0, ge=0, lt=1)

    @model_validator(mode="after")
    def _sum_to_one(self) -> Ratios:
        total = self.train + self.validation + self.test
        if abs(total - 1) > 1e-6:
            refuse({"train": f"train + validation + test must add up to 1, got {total:g}"})
        return self


class Splits(Strict):
    """The dataset's own splits by name, or the `train` split cut by `ratios` with `seed`."""

    train: str = "train"
    validation: str | None = "validation"
    test: str | None = "test"
    ratios: Ratios | None = None
    seed: int = Field(0, ge=0, lt=2**32)

    @model_validator(mode="after")
    def _names_or_ratios(self) -> Splits:
        if self.ratios is not None:
            named = {"validation", "test"} & self.model_fields_set
            refuse({f: "leave out split names when cutting by ratios" for f in sorted(named)})
        return self

    @property
    def has_validation(self) -> bool:
        return self.ratios.validation > 0 if self.ratios else self.validation is not None


class TextSpec(Strict):
    """`tokenizer: word` fits a word-level vocabulary on the training split; any other value
    names a hub repo whose tokenizer is used (a hub model always uses its own)."""

    tokenizer: Annotated[str, BeforeValidator(lambda v: v if v == "word" else _repo_id(v))] = "word"
    revision: str = Field("main", min_length=1)
    max_length: int = Field(64, ge=1, le=4096)
    vocab_size: int = Field(10000, ge=10, le=1_000_000)
    lowercase: bool = True

    @model_validator(mode="after")
    def _options(self) -> TextSpec:
        if self.tokenizer == "word":
            refuse(self._unused({"tokenizer", "max_length", "vocab_size", "lowercase"}, "the word tokenizer"))
        else:
            refuse(self._unused({"tokenizer", "revision", "max_length"}, "a hub tokenizer"))
        return self


class PreprocessingSpec(Strict):
    scale: Literal["none", "standard", "minmax"] = "none"
    reshape: list[Size] | None = Field(None, min_length=1, max_length=3)
    text: TextSpec | None = None

    @model_validator(mode="after")
    def _text_or_numbers(self) -> PreprocessingSpec:
        if self.text is not None:
            refuse(
                {
                    f: "applies to numeric columns, not to tokenised text"
                    for f in ("scale", "reshape")
                    if f in self.model_fields_set
                }
            )
        return self


class Data(Strict):
    dataset: RepoId
    revision: str = Field("main", min_length=1)
    splits: Splits = Splits()
    inputs: Annotated[list[Annotated[str, Field(min_length=1)]], BeforeValidator(_as_list)] = Field(
        min_length=1
    )
    label: str = Field(min_length=1)
    preprocessing: PreprocessingSpec = PreprocessingSpec()


# --- model ------------------------------------------------------------------------------------


class MLPSpec(Strict):
    type: Literal["mlp"]
    hidden: list[Size] = [128]
    activation: Activation = "relu"


class CNNSpec(Strict):
    """Conv blocks (conv, activation, 2x2 max-pool while the image is big enough), then dense layers."""

    type: Literal["cnn"]
    channels: list[Size] = Field([16, 32], min_length=1, max_length=8)
    kernel_size: int = Field(3, ge=1, le=15)
    hidden: list[Size] = [64]
    activation: Activation = "relu"


class RNNSpec(Strict):
    type: Literal["rnn"]
    cell: Literal["lstm", "gru"] = "lstm"
    hidden_size: Size = 64
    num_layers: int = Field(1, ge=1, le=8)
    bidirectional: bool = False
    embedding_dim: Size = 32


class TransformerSpec(Strict):
    type: Literal["transformer"]
    d_model: Size = 64
    num_heads: int = Field(4, ge=1, le=64)
    num_layers: int = Field(2, ge=1, le=24)
    dim_feedforward: Size = 128

    @model_validator(mode="after")
    def _heads_divide(self) -> TransformerSpec:
        if self.d_model % self.num_heads:
            refuse({"num_heads": f"d_model {self.d_model} is not divisible by {self.num_heads} heads"})
        return self


class HubSpec(Strict):
    """A `transformers` model from the hub, fine-tuned for sequence classification."""

    type: Literal["hub"]
    repo: RepoId
    revision: str = Field("main", min_length=1)


ModelSpec = Annotated[
    MLPSpec | CNNSpec | RNNSpec | TransformerSpec | HubSpec,
    Field(discriminator="type"),
    _as_named("type"),
]


# --- optimisation -----------------------------------------------------------------------------


class Schedule(Strict):
    """Learning-rate schedule, stepped once per batch; `warmup_steps` ramps up linearly first.
    `step` multiplies by `gamma` every `step_size` epochs; `cosine` and `linear` decay to `min_lr`."""

    name: Literal["constant", "step", "cosine", "linear"] = "constant"
    warmup_steps: int = Field(0, ge=0)
    step_size: int = Field(1, ge=1)
    gamma: float = Field(0.1, gt=0, le=1)
    min_lr: float = Field(0.0, ge=0)

    @model_validator(mode="after")
    def _options(self) -> Schedule:
        allowed = {"name", "warmup_steps"} | {
            "step": {"step_size", "gamma"},
            "cosine": {"min_lr"},
            "linear": {"min_lr"},
        }.get(self.name, set())
        refuse(self._unused(allowed, f"the {self.name} schedule"))
        return self


OPTIMISER_OPTIONS = {
    "sgd": {"momentum", "nesterov"},
    "adagrad": {"eps"},
    "rmsprop": {"momentum", "alpha", "eps"},
    "adam": {"betas", "eps"},
    "adamw": {"betas", "eps"},
}


class OptimizerSpec(Strict):
    """A torch optimiser. SGD with momentum (and Nesterov) is `sgd` with `momentum` set."""

    name: Literal["sgd", "adagrad", "rmsprop", "adam", "adamw"]
    lr: float = Field(1e-3, gt=0, le=10)
    momentum: float = Field(0.0, ge=0, lt=1)
    nesterov: bool = False
    alpha: float = Field(0.99, gt=0, lt=1)
    betas: tuple[Annotated[float, Field(ge=0, lt=1)], Annotated[float, Field(ge=0, lt=1)]] = (0.9, 0.999)
    eps: float = Field(1e-8, gt=0, lt=1)
    schedule: Annotated[Schedule, _as_named("name")] = Schedule()

    @model_validator(mode="after")
    def _options(self) -> OptimizerSpec:
        problems = self._unused({"name", "lr", "schedule"} | OPTIMISER_OPTIONS[self.name], self.name)
        if self.nesterov and self.momentum == 0:
            problems["nesterov"] = "needs momentum greater than 0"
        if self.schedule.min_lr >= self.lr and self.schedule.name in ("cosine", "linear"):
            problems["schedule.min_lr"] = f"must be below lr ({self.lr:g})"
        refuse(problems)
        return self


class LossSpec(Strict):
    name: Literal[CLASSIFICATION_LOSSES + REGRESSION_LOSSES]  # type: ignore[valid-type]
    label_smoothing: float = Field(0.0, ge=0, lt=1)
    delta: float = Field(1.0, gt=0)
    beta: float = Field(1.0, gt=0)

    @model_validator(mode="after")
    def _options(self) -> LossSpec:
        extra = {"cross_entropy": {"label_smoothing"}, "huber": {"delta"}, "smooth_l1": {"beta"}}
        refuse(self._unused({"name"} | extra.get(self.name, set()), self.name))
        return self

    @property
    def task(self) -> Task:
        return "classification" if self.name in CLASSIFICATION_LOSSES else "regression"


class Regularization(Strict):
    """`l1` adds l1 * sum(|w|) to the loss; `weight_decay` is the optimiser's L2 / decoupled decay;
    `grad_clip` caps the global gradient norm."""

    l1: float = Field(0.0, ge=0)
    weight_decay: float = Field(0.0, ge=0)
    dropout: float = Field(0.0, ge=0, lt=1)
    grad_clip: float | None = Field(None, gt=0)


class EarlyStopping(Strict):
    """Stop once the validation `metric` has not improved by more than `min_delta` for `patience` epochs."""

    metric: str = "loss"
    patience: int = Field(3, ge=1)
    min_delta: float = Field(0.0, ge=0)


class Training(Strict):
    epochs: int = Field(ge=1, le=10000)
    batch_size: int = Field(32, ge=1, le=65536)
    seed: int = Field(0, ge=0, lt=2**32)
    early_stopping: EarlyStopping | None = None


class Output(Strict):
    repo: RepoId
    branch: Ref = "main"
    private: bool = False
    # The trained model's licence for its card; by default the dataset's.
    license: str | None = Field(None, min_length=1, max_length=100)


class Recipe(Strict):
    data: Data
    model: ModelSpec
    optimizer: Annotated[OptimizerSpec, _as_named("name")]
    loss: Annotated[LossSpec, _as_named("name")]
    regularization: Regularization = Regularization()
    training: Training
    output: Output

    @property
    def task(self) -> Task:
        return self.loss.task

    @property
    def selection_metric(self) -> str:
        """The validation metric that picks the best epoch."""
        return self.training.early_stopping.metric if self.training.early_stopping else "loss"

    @model_validator(mode="after")
    def _fits_together(self) -> Recipe:
        refuse({**self._model_fits_inputs(), **self._stopping_fits()})
        return self

    def _model_fits_inputs(self) -> dict[str, str]:
        kind = self.model.type
        pre = self.data.preprocessing
        problems: dict[str, str] = {}
        if pre.text is not None and kind in ("mlp", "cnn"):
            problems["model.type"] = f"{kind} takes numeric columns; text needs rnn, transformer or hub"
        elif kind == "cnn" and (pre.reshape is None or len(pre.reshape) != 3):
            problems["model.type"] = (
                "cnn needs images; set data.preprocessing.reshape to [channels, height, width]"
            )
        elif kind in ("rnn", "transformer") and pre.reshape is not None and len(pre.reshape) != 2:
            problems["data.preprocessing.reshape"] = f"{kind} takes sequences: give [steps, features]"
        if kind == "hub":
            if pre.text is None:
                problems["data.preprocessing.text"] = "a hub model classifies text; set text preprocessing"
            elif "tokenizer" in pre.text.model_fields_set:
                problems["data.preprocessing.text.tokenizer"] = (
                    "a hub model uses its own tokenizer; leave it out"
                )
            if self.regularization.dropout:
                problems["regularization.dropout"] = "a hub model keeps its own dropout settings"
        return problems

    def _stopping_fits(self) -> dict[str, str]:
        stopping = self.training.early_stopping
        if stopping is None:
            return {}
        metrics = CLASSIFICATION_METRICS if self.task == "classification" else REGRESSION_METRICS
        if stopping.metric not in metrics:
            return {
                "training.early_stopping.metric": f"unknown metric {stopping.metric!r} for {self.task} "
                f"(loss {self.loss.name}); choose one of {', '.join(metrics)}"
            }
        if not self.data.splits.has_validation:
            return {"training.early_stopping": "needs a validation split"}
        return {}


def load_recipe(text: str) -> Recipe:
    """Parse and validate a YAML or JSON recipe; raise RecipeError listing every problem."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise RecipeError([f"recipe: not valid YAML or JSON{where}"]) from None
    if not isinstance(raw, dict):
        raise RecipeError(["recipe: expected a mapping with data, model, optimizer, loss, training, output"])
    return parse_recipe(raw)


def parse_recipe(raw: dict[str, Any]) -> Recipe:
    """Validate an already parsed recipe (e.g. from a JSON request body)."""
    try:
        return Recipe.model_validate(raw)
    except ValidationError as error:
        raise RecipeError(describe(error, Recipe)) from None
