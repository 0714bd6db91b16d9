"""SageMaker processing entry point: the transcribe step (see callscope.sagemaker_steps.transcribe)."""

from callscope.sagemaker_steps.transcribe import main

if __name__ == "__main__":
    main()
