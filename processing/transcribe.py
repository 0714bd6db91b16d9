"""SageMaker processing entry point: the transcribe step (see callscope.processing.transcribe)."""

from callscope.processing.transcribe import main

if __name__ == "__main__":
    main()
