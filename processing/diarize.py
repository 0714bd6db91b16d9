"""SageMaker processing entry point: the diarize step (see callscope.sagemaker_steps.diarize)."""

from callscope.sagemaker_steps.diarize import main

if __name__ == "__main__":
    main()
