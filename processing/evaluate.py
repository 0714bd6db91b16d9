"""SageMaker processing entry point: the evaluate step (see callscope.processing.evaluate)."""

from callscope.processing.evaluate import main

if __name__ == "__main__":
    main()
