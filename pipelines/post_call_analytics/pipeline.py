"""The post-call analytics SageMaker Pipeline: the steps of `callscope analyze`, one processing job each.

    calls ─► Prepare ─► Diarize ─► Transcribe ─► Enrich ─► PCA JSON, RTTM, SRT, VTT, TXT
    labelled set ─► (the same four steps) ─► Evaluate ─► WER and DER within bounds?
                                                          ├─ yes: register both models (PendingManualApproval)
                                                          └─ no: fail, naming the metrics

Steps pass calls to each other as one tar "call bundle" per call (callscope.sagemaker_steps.bundle) through
S3, sharded across instances by S3 key, so 10,000 calls scale by instance count. Diarize runs in the
diarization image, everything else in the transcription image (GPU by instance type). Both images
carry callscope and the entry points of processing/ at ENTRYPOINT_DIR, so the code of a run is the
code of its images. Needs the `pipelines` extra (SageMaker Python SDK v3).

With Asr=transcribe, Amazon Transcribe jobs write the words instead of faster-whisper (Diarize then
passes the calls on, Transcribe waits for the jobs; docs/AWS.md, "Amazon Transcribe in the pipeline").
"""

from __future__ import annotations

from dataclasses import dataclass

from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
from sagemaker.core.processing import Processor
from sagemaker.core.shapes import ProcessingInput, ProcessingOutput, ProcessingS3Input, ProcessingS3Output
from sagemaker.core.workflow.conditions import ConditionLessThanOrEqualTo
from sagemaker.core.workflow.execution_variables import ExecutionVariables
from sagemaker.core.workflow.functions import Join, JsonGet
from sagemaker.core.workflow.parameters import Parameter, ParameterFloat, ParameterInteger, ParameterString
from sagemaker.core.workflow.pipeline_context import PipelineSession
from sagemaker.core.workflow.properties import PropertyFile
from sagemaker.mlops.workflow.condition_step import ConditionStep
from sagemaker.mlops.workflow.fail_step import FailStep
from sagemaker.mlops.workflow.model_step import ModelStep
from sagemaker.mlops.workflow.pipeline import Pipeline
from sagemaker.mlops.workflow.steps import ProcessingStep
from sagemaker.serve.model_builder import ModelBuilder

from callscope.flags import ENRICH_FLAGS, MODEL_FLAGS, STEP_FLAGS, TRANSCRIBE_FLAGS, Flag, FlagValue
from pipelines.post_call_analytics.layout import ENTRYPOINT_DIR, EVALUATION_REPORT, PROCESSING


@dataclass(frozen=True)
class PipelineParameters:
    """Every knob of a run; each can be overridden when starting an execution."""

    input_calls: ParameterString
    labelled_set: ParameterString
    output_prefix: ParameterString
    diarization_image: ParameterString
    transcription_image: ParameterString
    diarization_model_data: ParameterString
    transcription_model_data: ParameterString
    prepare_instance_type: ParameterString
    diarization_instance_type: ParameterString
    diarization_instance_count: ParameterInteger
    transcription_instance_type: ParameterString
    transcription_instance_count: ParameterInteger
    enrich_instance_type: ParameterString
    enrich_instance_count: ParameterInteger
    # The analysis settings, generated from the flag spec (callscope.flags): Flag.dest -> parameter.
    flags: dict[str, Parameter]
    max_wer: ParameterFloat
    max_der: ParameterFloat
    approval_status: ParameterString

    def all(self) -> list:
        values = vars(self).values()
        return [item for value in values for item in (value.values() if isinstance(value, dict) else [value])]


def pipeline_parameters(default_bucket: str, base_job_prefix: str, diarization_image_uri: str,
                        transcription_image_uri: str) -> PipelineParameters:
    data = f"s3://{default_bucket}/{base_job_prefix}"
    return PipelineParameters(
        input_calls=ParameterString("InputCalls", default_value=f"{data}/calls"),
        labelled_set=ParameterString("LabelledSet", default_value=f"{data}/labelled"),
        output_prefix=ParameterString("OutputPrefix", default_value=f"{data}/runs"),
        diarization_image=ParameterString("DiarizationImageUri", default_value=diarization_image_uri),
        transcription_image=ParameterString("TranscriptionImageUri", default_value=transcription_image_uri),
        diarization_model_data=ParameterString("DiarizationModelData",
                                               default_value=f"{data}/models/diarization.tar.gz"),
        transcription_model_data=ParameterString("TranscriptionModelData",
                                                 default_value=f"{data}/models/transcription.tar.gz"),
        prepare_instance_type=ParameterString("PrepareInstanceType", default_value="ml.m5.large"),
        diarization_instance_type=ParameterString("DiarizationInstanceType", default_value="ml.c5.2xlarge"),
        diarization_instance_count=ParameterInteger("DiarizationInstanceCount", default_value=1),
        transcription_instance_type=ParameterString("TranscriptionInstanceType", default_value="ml.g4dn.xlarge"),
        transcription_instance_count=ParameterInteger("TranscriptionInstanceCount", default_value=1),
        enrich_instance_type=ParameterString("EnrichInstanceType", default_value="ml.m5.large"),
        enrich_instance_count=ParameterInteger("EnrichInstanceCount", default_value=1),
        # Media and results of Amazon Transcribe jobs go to the pipeline's bucket unless told otherwise.
        flags=flag_parameters(MODEL_FLAGS + ENRICH_FLAGS + TRANSCRIBE_FLAGS, {"s3_bucket": default_bucket}),
        max_wer=ParameterFloat("MaxWER", default_value=0.35),
        max_der=ParameterFloat("MaxDER", default_value=0.25),
        approval_status=ParameterString("ModelApprovalStatus", default_value="PendingManualApproval"),
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


class _StepFactory:
    """Builds processing steps that share a session, a role and a job-name prefix."""

    def __init__(self, session: PipelineSession, role: str, base_job_prefix: str, p: PipelineParameters):
        self.session, self.role, self.prefix, self.p = session, role, base_job_prefix, p
        self.steps: list[ProcessingStep] = []

    def output_uri(self, *parts: str) -> Join:
        # Each execution writes under its own id: re-runs never mix their results.
        return Join(on="/", values=[self.p.output_prefix, ExecutionVariables.PIPELINE_EXECUTION_ID, *parts])

    def step(self, name: str, script: str, image, instance_type, instance_count, inputs: dict, outputs: dict,
             arguments: list | None = None, property_files: list | None = None) -> ProcessingStep:
        """`inputs`: channel -> (S3 URI, sharded?); `outputs`: channel -> S3 URI."""
        processor = Processor(
            role=self.role, image_uri=image, instance_type=instance_type, instance_count=instance_count,
            entrypoint=["python3", f"{ENTRYPOINT_DIR}/{script}.py"], base_job_name=f"{self.prefix}-{script}",
            sagemaker_session=self.session, env={"PYTHONUNBUFFERED": "1"},
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
        step = ProcessingStep(name=name, step_args=step_args, property_files=property_files)
        self.steps.append(step)
        return step


def _output_of(step: ProcessingStep, channel: str):
    return step.properties.ProcessingOutputConfig.Outputs[channel].S3Output.S3Uri


def _analysis_chain(make: _StepFactory, label: str, calls, results_name: str, redact,
                    asr) -> tuple[ProcessingStep, ProcessingStep]:
    """Prepare -> Diarize -> Transcribe -> Enrich for the calls under `calls`; returns Diarize and Enrich."""
    p = make.p
    # Media and job results outside the executions' folders: a re-run reuses the jobs it paid for.
    analysis = flag_arguments(STEP_FLAGS, p.flags, {"asr": asr, "s3_prefix": f"{make.prefix}/transcribe"})
    prepare = make.step(f"Prepare{label}", "prepare", p.transcription_image, p.prepare_instance_type, 1,
                        {"calls": (calls, False)}, {"bundles": make.output_uri(results_name, "prepared")},
                        ["--source-uri", calls])
    diarize = make.step(f"Diarize{label}", "diarize", p.diarization_image, p.diarization_instance_type,
                        p.diarization_instance_count, {"bundles": (_output_of(prepare, "bundles"), True)},
                        {"bundles": make.output_uri(results_name, "diarized")}, list(analysis))
    transcribe = make.step(f"Transcribe{label}", "transcribe", p.transcription_image,
                           p.transcription_instance_type, p.transcription_instance_count,
                           {"bundles": (_output_of(diarize, "bundles"), True)},
                           {"bundles": make.output_uri(results_name, "transcribed")}, list(analysis))
    return diarize, make.step(f"Enrich{label}", "enrich", p.transcription_image, p.enrich_instance_type,
                     p.enrich_instance_count, {"bundles": (_output_of(transcribe, "bundles"), True)},
                     {"results": make.output_uri(results_name, "results")},
                     [*analysis, *flag_arguments(ENRICH_FLAGS, p.flags, {"redact": redact})])


def _register(name: str, group: str, image, model_data, evaluation_uri, p: PipelineParameters,
              session: PipelineSession, role: str, instance_type) -> ModelStep:
    builder = ModelBuilder(image_uri=image, s3_model_data_url=model_data, role_arn=role, sagemaker_session=session)
    metrics = ModelMetrics(model_statistics=MetricsSource(content_type="application/json", s3_uri=evaluation_uri))
    return ModelStep(name=name, step_args=builder.register(
        model_package_group_name=group, approval_status=p.approval_status, model_metrics=metrics,
        content_types=["application/json", "audio/wav", "audio/mpeg", "audio/flac"],
        response_types=["application/json"], inference_instances=[instance_type],
        transform_instances=[instance_type],
    ))


def get_pipeline(
    region: str,
    role: str | None = None,
    default_bucket: str | None = None,
    pipeline_name: str = "CallscopePostCallAnalytics",
    model_package_group_name: str = "callscope",
    base_job_prefix: str = "callscope",
    diarization_image_uri: str = "callscope-diarization:latest",
    transcription_image_uri: str = "callscope-transcription:latest",
    sagemaker_session: PipelineSession | None = None,
) -> Pipeline:
    """The pipeline, as the SageMaker project templates' `get_pipeline` builds it.

    Model packages go to the groups `<model_package_group_name>-diarization` and `-transcription`.
    `role` and `default_bucket` default to the session's (which asks AWS); give both to build offline.
    """
    session = sagemaker_session or _session(region, default_bucket)
    if default_bucket:
        # The SDK otherwise checks (and creates) the bucket while building: a given bucket must exist
        # already, and building a definition stays offline.
        session._default_bucket = default_bucket
    role = role or _execution_role(session)
    bucket = default_bucket or session.default_bucket()
    p = pipeline_parameters(bucket, base_job_prefix, diarization_image_uri, transcription_image_uri)
    make = _StepFactory(session, role, base_job_prefix, p)

    _analysis_chain(make, "", p.input_calls, "calls", p.flags["redact"], p.flags["asr"])
    # The labelled set is never redacted: its transcripts are scored word by word against references.
    # It always runs the images' own models, whatever Asr says: their WER and DER gate their registration.
    diarized, labelled = _analysis_chain(make, "Labelled", p.labelled_set, "labelled", "no", "whisper")
    report = PropertyFile(name="EvaluationReport", output_name="evaluation", path=EVALUATION_REPORT)
    evaluate = make.step("Evaluate", "evaluate", p.transcription_image, p.enrich_instance_type, 1,
                         {"results": (_output_of(labelled, "results"), False),
                          "diarized": (_output_of(diarized, "bundles"), False), "references": (p.labelled_set, False)},
                         {"evaluation": make.output_uri("evaluation")}, property_files=[report])
    evaluation_uri = Join(on="/", values=[_output_of(evaluate, "evaluation"), EVALUATION_REPORT])

    register = [
        _register("RegisterDiarizationModel", f"{model_package_group_name}-diarization", p.diarization_image,
                  p.diarization_model_data, evaluation_uri, p, session, role, p.diarization_instance_type),
        _register("RegisterTranscriptionModel", f"{model_package_group_name}-transcription", p.transcription_image,
                  p.transcription_model_data, evaluation_uri, p, session, role, p.transcription_instance_type),
    ]
    wer = JsonGet(step_name=evaluate.name, property_file=report, json_path="metrics.wer.value")
    der = JsonGet(step_name=evaluate.name, property_file=report, json_path="metrics.der.value")
    fail = FailStep(name="MetricsOutOfBounds", error_message=Join(on=" ", values=[
        "WER", wer, "(at most", p.max_wer, ") or DER", der, "(at most", p.max_der,
        ") out of bounds: models not registered"]))
    gate = ConditionStep(
        name="CheckWERAndDER",
        conditions=[ConditionLessThanOrEqualTo(left=wer, right=p.max_wer),
                    ConditionLessThanOrEqualTo(left=der, right=p.max_der)],
        if_steps=register, else_steps=[fail],
    )
    return Pipeline(name=pipeline_name, parameters=p.all(), steps=[*make.steps, gate], sagemaker_session=session)


# The SDK otherwise sends usage data (an STS lookup and an S3 request) whenever a pipeline is built.
NO_TELEMETRY = {"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}}


def _session(region: str, default_bucket: str | None) -> PipelineSession:
    import boto3

    return PipelineSession(boto_session=boto3.Session(region_name=region), default_bucket=default_bucket,
                           sagemaker_config=NO_TELEMETRY)


def _execution_role(session: PipelineSession) -> str:
    from sagemaker.core.helper.session_helper import get_execution_role

    return get_execution_role(session)
