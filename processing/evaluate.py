"""SageMaker processing entry point: the evaluate step (see callscope.sagemaker_steps.evaluate)."""

from callscope.sagemaker_steps.evaluate import main

if __name__ == "__main__":
    main()
