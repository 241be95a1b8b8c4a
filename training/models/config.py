"""Training configuration: one dataclass, filled from the command line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.audio.contract import Contract
from training.data.augment import AugmentConfig


@dataclass
class TrainConfig:
    data: Path
    layout: str = "fsdd"
    out: Path = Path("models/default")
    model: str = "mlp"
    latent_dim: int = 2
    widths: tuple[int, ...] = (1024, 512, 256)
    epochs: int = 60
    minutes: float | None = None  # wall-clock budget: no epoch starts that would overrun it
    batch_size: int = 64
    learning_rate: float = 1e-3
    beta: float = 1.0  # KL weight (1 = the study's ELBO)
    kl_warmup: int = 0  # epochs over which beta rises linearly from 0
    latent_components: int = 3  # Gaussians per digit fitted to the encodings, sampled by /generate
    seed: int = 42
    split: str = "stratified"  # "speaker": hold out `test_speakers`; "takes": `test_takes`
    test_speakers: tuple[str, ...] = ()
    test_takes: int = 5  # with split "takes": each speaker's takes below this are test
    length_filter: bool = True
    cache_dir: Path = Path(".cache/features")
    run_dir: Path = Path("runs")
    judge: Path | None = None  # a judge folder: its classifier goes into the bundle
    # Training set only (val and test stay the data's real clips): `augment` augmented copies
    # of each training clip (training/data/augment.py), and extra data sets as (root, layout).
    augment: int = 0
    augment_config: AugmentConfig = field(default_factory=AugmentConfig)
    extra_data: tuple[tuple[Path, str], ...] = ()
    contract: Contract = field(default_factory=Contract)

    @property
    def name(self) -> str:
        return self.out.name
