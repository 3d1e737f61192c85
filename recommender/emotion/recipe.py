"""A training run's recipe: everything that decides it, stored beside its checkpoints (pure core, no Django)."""

from __future__ import annotations

from dataclasses import dataclass

from .labels import FACE_SIZE


@dataclass
class Recipe:
    """Everything that decides a training run; stored beside the checkpoints."""

    arch: str
    epochs: int
    batch_size: int = 64
    optimizer: str = "adamw"
    learning_rate: float = 2e-3
    weight_decay: float = 5e-4
    warmup_epochs: float = 1.0
    label_smoothing: float = 0.1
    class_weight_power: float = 0.5  # 0 = none, 1 = fully balanced
    augment: bool = True
    equalize: bool = True  # histogram-equalise rows, as served crops are (the paper's preprocessing)
    init_from: str | None = None  # warm start: weights of an earlier run (a new schedule on top of them)
    seed: int = 1234
    crop: int = FACE_SIZE  # train on random crop x crop windows of the face; served on ten crops
    mixup: float = 0.0  # Beta(alpha, alpha) mixup; 0 = off
    ferplus: float = 0.0  # blend of the FER+ vote distribution into the targets (replaces smoothing); 0 = off
    distil: list[str] | None = None  # teachers (teachers.py) whose mean probabilities join the targets
    distil_weight: float = 0.5  # share of the teachers in the targets when distilling
    ema: float = 0.0  # momentum of an exponential moving average of the weights, validated and shipped; 0 = off
    recalibrate_bn: bool = False  # after training, the best model's batch-norm statistics from clean faces
    precision: str = "float32"  # Keras dtype policy the run trained under (chosen by the CPU: pipeline.py)

    def __post_init__(self):
        if self.distil and self.ferplus > 0:
            raise ValueError("distil from teachers or blend FER+ votes, not both (each replaces the targets)")
        if self.distil and not 0 < self.distil_weight <= 1:
            raise ValueError(f"the distillation weight must be in (0, 1], not {self.distil_weight}")
        if not 0 <= self.ema < 1:
            raise ValueError(f"the weight average's momentum must be in [0, 1), not {self.ema}")
        if self.ema and self.optimizer != "adamw":
            raise ValueError("a weight average (--ema) is kept by the AdamW recipes, not the paper's Adam")

    @classmethod
    def for_arch(cls, arch: str, epochs: int, **overrides) -> "Recipe":
        if arch == "paper":
            # Section 2.3.3: mini-batch gradient descent on cross-entropy, learning rate 1e-4,
            # no augmentation or class weighting. Adam is the mini-batch optimiser the paper's
            # TensorFlow code base would use at 1e-4; plain SGD at 1e-4 barely moves.
            base = dict(optimizer="adam", learning_rate=1e-4, weight_decay=0.0, warmup_epochs=0.0,
                        label_smoothing=0.0, class_weight_power=0.0, augment=False, equalize=True)
        else:
            base = {}
        base.update({k: v for k, v in overrides.items() if v is not None})
        return cls(arch=arch, epochs=epochs, **base)
