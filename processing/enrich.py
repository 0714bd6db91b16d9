"""SageMaker processing entry point: the enrich step (see callscope.sagemaker_steps.enrich)."""

from callscope.sagemaker_steps.enrich import main

if __name__ == "__main__":
    main()
