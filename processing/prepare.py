"""SageMaker processing entry point: the prepare step (see callscope.processing.prepare)."""

from callscope.processing.prepare import main

if __name__ == "__main__":
    main()
