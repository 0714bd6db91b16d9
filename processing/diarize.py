"""SageMaker processing entry point: the diarize step (see callscope.processing.diarize)."""

from callscope.processing.diarize import main

if __name__ == "__main__":
    main()
