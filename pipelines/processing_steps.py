"""What both pipelines build their steps from: the shared parameters (the images' instances and the
analysis flags of callscope.flags), processing steps that share a session and a role, and the chain
Prepare -> Diarize -> Transcribe -> Enrich over a folder of calls. Needs the `pipelines` extra."""

from __future__ import annotations

from dataclasses import dataclass

from sagemaker.core.processing import Processor
from sagemaker.core.shapes import ProcessingInput, ProcessingOutput, ProcessingS3Input, ProcessingS3Output
from sagemaker.core.workflow.execution_variables import ExecutionVariables
from sagemaker.core.workflow.functions import Join
from sagemaker.core.workflow.parameters import Parameter, ParameterFloat, ParameterInteger, ParameterString
from sagemaker.core.workflow.pipeline_context import PipelineSession
from sagemaker.mlops.workflow.retry import (
    SageMakerJobExceptionTypeEnum,
    SageMakerJobStepRetryPolicy,
    StepExceptionTypeEnum,
    StepRetryPolicy,
)
from sagemaker.mlops.workflow.steps import CacheConfig, ProcessingStep

from callscope.flags import ENRICH_FLAGS, RUN_FLAGS, STEP_FLAGS, Flag, FlagValue
from callscope.models.package import ARCHIVE
from callscope.sagemaker_steps.model_channel import MODEL_CHANNEL
from pipelines.post_call_analytics.layout import ENTRYPOINT_DIR, PROCESSING

# The SDK otherwise sends usage data (an STS lookup and an S3 request) whenever a pipeline is built.
NO_TELEMETRY = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}}


@dataclass(frozen=True)
class Instances:
    """Where each step runs; every one can be overridden when starting an execution."""

    prepare_type: ParameterString
    prepare_count: ParameterInteger
    diarization_type: ParameterString
    diarization_count: ParameterInteger
    transcription_type: ParameterString
    transcription_count: ParameterInteger
    enrich_type: ParameterString
    enrich_count: ParameterInteger
    volume_size: ParameterInteger  # each instance's storage: the calls and models of its shard

    def all(self) -> list:
        return list(vars(self).values())


def instance_parameters() -> Instances:
    return Instances(
        prepare_type=ParameterString("PrepareInstanceType", default_value="ml.m5.large"),
        prepare_count=ParameterInteger("PrepareInstanceCount", default_value=1),
        diarization_type=ParameterString("DiarizationInstanceType", default_value="ml.c5.2xlarge"),
        diarization_count=ParameterInteger("DiarizationInstanceCount", default_value=1),
        transcription_type=ParameterString("TranscriptionInstanceType", default_value="ml.g4dn.xlarge"),
        transcription_count=ParameterInteger("TranscriptionInstanceCount", default_value=1),
        enrich_type=ParameterString("EnrichInstanceType", default_value="ml.m5.large"),
        enrich_count=ParameterInteger("EnrichInstanceCount", default_value=1),
        volume_size=ParameterInteger("VolumeSizeInGB", default_value=30),
    )


def flag_parameters(flags: tuple[Flag, ...], defaults: dict[str, FlagValue]) -> dict[str, Parameter]:
    """A pipeline parameter for each flag that names one; a switch is the string yes or no."""
    parameters: dict[str, Parameter] = {}
    for flag in flags:
        if not flag.parameter:
            continue
        default = defaults.get(flag.dest, flag.default if flag.pipeline_default is None else flag.pipeline_default)
        if flag.type is bool:
            parameters[flag.dest] = ParameterString(flag.parameter, default_value="yes" if default else "no",
                                                    enum_values=["yes", "no"])
        elif flag.type is int:
            parameters[flag.dest] = ParameterInteger(flag.parameter, default_value=default)
        elif flag.type is float:
            parameters[flag.dest] = ParameterFloat(flag.parameter, default_value=default)
        else:
            parameters[flag.dest] = ParameterString(flag.parameter, default_value=default,
                                                    enum_values=list(flag.choices) or None)
    return parameters


def flag_arguments(flags: tuple[Flag, ...], parameters: dict[str, Parameter], given: dict | None = None) -> list:
    """The steps' arguments for `flags`: a value in `given`, else the flag's parameter; a flag with
    neither is left out, so the step takes its default."""
    arguments: list = []
    for flag in flags:
        value = (given or {}).get(flag.dest, parameters.get(flag.dest))
        if value is None:
            continue
        arguments += [flag.option, value.to_string() if isinstance(value, ParameterInteger | ParameterFloat) else value]
    return arguments


@dataclass(frozen=True)
class Models:
    """What the analysis steps run: each image, and the model package its steps get in their model
    channel (an S3 URI of a model.tar.gz; None: the models installed in the image)."""

    diarization_image: object
    transcription_image: object
    diarization_data: object = None
    transcription_data: object = None
    # The Transcribe step's image when it differs (the GPU build, for a GPU transcription instance)
    transcribe_image: object = None


# A step that could not start for want of instances, or was throttled, is tried again (up to 5 times,
# waiting 1, 2, 4, 8 minutes): a batch of thousands of calls should not fail on a passing quota.
RETRY_POLICIES = [
    StepRetryPolicy(exception_types=[StepExceptionTypeEnum.THROTTLING], interval_seconds=60, backoff_rate=2.0,
                    max_attempts=5),
    SageMakerJobStepRetryPolicy(exception_types=[SageMakerJobExceptionTypeEnum.CAPACITY_ERROR,
                                                 SageMakerJobExceptionTypeEnum.RESOURCE_LIMIT],
                                interval_seconds=60, backoff_rate=2.0, max_attempts=5),
]


class StepFactory:
    """Builds processing steps that share a session, a role, a job-name prefix, an output prefix and
    the instances' storage size; every step retries on capacity and throttling errors, and reuses an
    earlier execution's results when given a `cache` (for steps whose inputs name what they read)."""

    def __init__(self, session: PipelineSession, role: str, base_job_prefix: str, output_prefix,
                 volume_size, cache: CacheConfig | None = None) -> None:
        self.session, self.role, self.prefix, self.output_prefix = session, role, base_job_prefix, output_prefix
        self.volume_size, self.cache = volume_size, cache
        self.steps: list[ProcessingStep] = []

    def output_uri(self, *parts: str) -> Join:
        # Each execution writes under its own id: re-runs never mix their results.
        return Join(on="/", values=[self.output_prefix, ExecutionVariables.PIPELINE_EXECUTION_ID, *parts])

    def step(self, name: str, script: str, image, instance_type, instance_count, inputs: dict, outputs: dict,
             arguments: list | None = None, property_files: list | None = None) -> ProcessingStep:
        """`inputs`: channel -> (S3 URI, sharded?); `outputs`: channel -> S3 URI."""
        processor = Processor(
            role=self.role, image_uri=image, instance_type=instance_type, instance_count=instance_count,
            volume_size_in_gb=self.volume_size, entrypoint=["python3", f"{ENTRYPOINT_DIR}/{script}.py"],
            base_job_name=f"{self.prefix}-{script}", sagemaker_session=self.session, env={"PYTHONUNBUFFERED": "1"},
        )
        step_args = processor.run(
            inputs=[
                ProcessingInput(input_name=channel, s3_input=ProcessingS3Input(
                    s3_uri=uri, local_path=f"{PROCESSING}/input/{channel}", s3_data_type="S3Prefix",
                    s3_input_mode="File",
                    s3_data_distribution_type="ShardedByS3Key" if sharded else "FullyReplicated",
                ))
                for channel, (uri, sharded) in inputs.items()
            ],
            outputs=[
                ProcessingOutput(output_name=channel, s3_output=ProcessingS3Output(
                    s3_uri=uri, local_path=f"{PROCESSING}/output/{channel}", s3_upload_mode="EndOfJob"))
                for channel, uri in outputs.items()
            ],
            arguments=arguments,
        )
        step = ProcessingStep(name=name, step_args=step_args, property_files=property_files,
                              retry_policies=RETRY_POLICIES, cache_config=self.cache)
        self.steps.append(step)
        return step


def output_of(step: ProcessingStep, channel: str):
    return step.properties.ProcessingOutputConfig.Outputs[channel].S3Output.S3Uri


def archive_in(prefix) -> Join:
    """The model package a step wrote under `prefix` (an output channel's S3 URI)."""
    return Join(on="/", values=[prefix, ARCHIVE])


def analysis_chain(make: StepFactory, instances: Instances, models: Models, flags: dict[str, Parameter],
                   label: str, calls, results_name: str, given: dict) -> tuple[ProcessingStep, ProcessingStep]:
    """Prepare -> Diarize -> Transcribe -> Enrich for the calls under `calls`; returns Diarize and Enrich.
    `given` are flag values fixed for this chain (by Flag.dest), the rest come from `flags`."""
    # Media and job results outside the executions' folders: a re-run reuses the jobs it paid for.
    analysis = flag_arguments(STEP_FLAGS, flags, {"s3_prefix": f"{make.prefix}/transcribe", **given})

    def with_model(inputs: dict, data) -> dict:
        return inputs if data is None else {**inputs, MODEL_CHANNEL: (data, False)}

    # Sharded too: with PrepareInstanceCount instances no one of them downloads every call.
    prepare = make.step(f"Prepare{label}", "prepare", models.transcription_image, instances.prepare_type,
                        instances.prepare_count, {"calls": (calls, True)},
                        {"bundles": make.output_uri(results_name, "prepared")},
                        ["--source-uri", calls, *flag_arguments(RUN_FLAGS, flags)])
    diarize = make.step(f"Diarize{label}", "diarize", models.diarization_image, instances.diarization_type,
                        instances.diarization_count,
                        with_model({"bundles": (output_of(prepare, "bundles"), True)}, models.diarization_data),
                        {"bundles": make.output_uri(results_name, "diarized")}, list(analysis))
    transcribe = make.step(f"Transcribe{label}", "transcribe", models.transcribe_image or models.transcription_image,
                           instances.transcription_type, instances.transcription_count,
                           with_model({"bundles": (output_of(diarize, "bundles"), True)}, models.transcription_data),
                           {"bundles": make.output_uri(results_name, "transcribed")}, list(analysis))
    # Enrich translates turns in other languages with the transcription model: the same package.
    enrich = make.step(f"Enrich{label}", "enrich", models.transcription_image, instances.enrich_type,
                       instances.enrich_count,
                       with_model({"bundles": (output_of(transcribe, "bundles"), True)}, models.transcription_data),
                       {"results": make.output_uri(results_name, "results")},
                       [*analysis, *flag_arguments(ENRICH_FLAGS, flags, given)])
    return diarize, enrich


def pipeline_session(region: str, default_bucket: str | None, given: PipelineSession | None = None
                     ) -> PipelineSession:
    """The session to build with (`given`, else a new one): a given bucket is taken as it is (the SDK
    would otherwise check, and create, it while building), so building a definition stays offline."""
    import boto3

    session = given or PipelineSession(boto_session=boto3.Session(region_name=region), default_bucket=default_bucket,
                                       sagemaker_config=NO_TELEMETRY)
    if default_bucket:
        session._default_bucket = default_bucket
    return session


def execution_role(session: PipelineSession) -> str:
    from sagemaker.core.helper.session_helper import get_execution_role

    return get_execution_role(session)
