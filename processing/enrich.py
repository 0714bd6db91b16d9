"""SageMaker processing entry point: the enrich step (see callscope.processing.enrich)."""

from callscope.processing.enrich import main

if __name__ == "__main__":
    main()
