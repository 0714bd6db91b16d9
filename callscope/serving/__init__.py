"""HTTP inference servers for the SageMaker hosting containers (containers/diarization, containers/transcription).

SageMaker runs `docker run IMAGE serve`; `serve` starts one of these servers, which loads its model
once from the model directory and answers `GET /ping` and `POST /invocations` on port 8080:

    python -m callscope.serving diarization --port 8080 --model-dir /opt/ml/model
    python -m callscope.serving transcription

The standard library's threading HTTP server is enough for SageMaker's contract (one model, JSON in
and out) and keeps the images free of a web framework. See containers/README.md for requests.
"""

KINDS = ("diarization", "transcription")
