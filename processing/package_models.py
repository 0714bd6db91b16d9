"""SageMaker processing entry point: the package step (see callscope.sagemaker_steps.package_models)."""

from callscope.sagemaker_steps.package_models import main

if __name__ == "__main__":
    main()
