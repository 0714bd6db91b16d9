"""Paths the pipeline definition, the images and the local runner agree on (no SageMaker SDK here)."""

ENTRYPOINT_DIR = "/opt/program/processing"  # where both Dockerfiles copy processing/*.py
PROCESSING = "/opt/ml/processing"  # the processing contract's root in a container
EVALUATION_REPORT = "evaluation.json"  # written by callscope.sagemaker_steps.evaluate
