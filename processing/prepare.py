"""SageMaker processing entry point: the prepare step (see callscope.sagemaker_steps.prepare)."""

from callscope.sagemaker_steps.prepare import main

if __name__ == "__main__":
    main()
