"""Build a local pyannote.audio pipeline directory for tests, from pyannote's own architectures.

The real weights (pyannote/speaker-diarization-community-1) are gated on the Hugging Face hub and
no registry package ships them, so this writes the same layout a user gets from the hub (a
`config.yaml` naming `$model/segmentation`, `$model/embedding` and `$model/plda`) with freshly
initialised PyanNet (segmentation-3.0's powerset set-up) and WeSpeaker ResNet34 checkpoints and an
identity PLDA. pyannote.audio loads and runs it exactly as it does the real one; only the quality of
its answer is meaningless.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def build_pipeline_directory(root: Path, seed: int = 0) -> Path:
    import lightning
    import torch
    import yaml
    from pyannote.audio.core.task import Problem, Resolution, Specifications
    from pyannote.audio.models.embedding import WeSpeakerResNet34
    from pyannote.audio.models.segmentation import PyanNet

    torch.manual_seed(seed)
    root.mkdir(parents=True, exist_ok=True)

    segmentation = PyanNet(sincnet={"stride": 10})
    segmentation.specifications = Specifications(
        problem=Problem.MONO_LABEL_CLASSIFICATION, resolution=Resolution.FRAME, duration=10.0, min_duration=10.0,
        classes=["speaker#1", "speaker#2", "speaker#3"], powerset_max_classes=2, permutation_invariant=True,
    )
    segmentation.build()
    _save_checkpoint(segmentation, root / "segmentation", lightning.__version__)

    embedding = WeSpeakerResNet34()
    embedding.specifications = Specifications(
        problem=Problem.REPRESENTATION, resolution=Resolution.CHUNK, duration=5.0
    )
    _save_checkpoint(embedding, root / "embedding", lightning.__version__)

    plda = root / "plda"
    plda.mkdir(exist_ok=True)
    np.savez(plda / "xvec_transform.npz", mean1=np.zeros(256), mean2=np.zeros(128), lda=np.eye(256)[:, :128])
    np.savez(plda / "plda.npz", mu=np.zeros(128), tr=np.eye(128), psi=np.ones(128))

    config = {
        "pipeline": {
            "name": "pyannote.audio.pipelines.SpeakerDiarization",
            "params": {
                "segmentation": "$model/segmentation", "embedding": "$model/embedding", "plda": "$model/plda",
                "clustering": "AgglomerativeClustering", "embedding_exclude_overlap": True,
                "segmentation_batch_size": 32, "embedding_batch_size": 32,
            },
        },
        "params": {
            "segmentation": {"min_duration_off": 0.0},
            "clustering": {"method": "centroid", "min_cluster_size": 12, "threshold": 0.7},
        },
    }
    (root / "config.yaml").write_text(yaml.safe_dump(config))
    return root


def _save_checkpoint(model, folder: Path, lightning_version: str) -> None:
    """Write `pytorch_model.bin` as a Lightning checkpoint, the form Model.from_pretrained reads."""
    import torch

    folder.mkdir(exist_ok=True)
    checkpoint = {
        "state_dict": model.state_dict(),
        "hyper_parameters": dict(model.hparams),
        "pytorch-lightning_version": lightning_version,
    }
    model.on_save_checkpoint(checkpoint)  # adds pyannote.audio's version, architecture, specifications
    torch.save(checkpoint, folder / "pytorch_model.bin")
