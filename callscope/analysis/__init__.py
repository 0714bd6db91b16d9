"""One call through every stage (call.py, its steps in stages.py, the models in engines.py) and the
resumable batch over many calls (batch.py): the core shared by the CLI, the SageMaker steps and the
inference servers."""
