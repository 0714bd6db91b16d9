"""The post-call analytics SageMaker Pipeline: the batch run of `callscope analyze`, one processing
job per step, with the approved models only.

    calls ─► Prepare ─► Diarize ─► Transcribe ─► Enrich ─► PCA JSON, RTTM, SRT, VTT, TXT

The images and model packages are the latest Approved package of `<group>-diarization` and
`<group>-transcription` (the model-build pipeline registers them, a person or CI approves them),
looked up when the definition is built: an upsert after an approval runs the new models, and with no
Approved package the pipeline cannot be built (one line). It registers nothing. Steps pass calls to
each other as one tar "call bundle" per call (callscope.sagemaker_steps.bundle) through S3, sharded
across instances by S3 key, so 10,000 calls scale by instance count. Needs the `pipelines` extra.

With Asr=transcribe, Amazon Transcribe jobs write the words instead of faster-whisper (Diarize then
passes the calls on, Transcribe waits for the jobs; docs/AWS.md, "Amazon Transcribe in the pipeline").
"""

from __future__ import annotations

from dataclasses import dataclass

from sagemaker.core.workflow.parameters import Parameter, ParameterString
from sagemaker.core.workflow.pipeline_context import PipelineSession
from sagemaker.mlops.workflow.pipeline import Pipeline

from callscope.flags import ENRICH_FLAGS, MODEL_FLAGS, RUN_FLAGS, TRANSCRIBE_FLAGS
from pipelines.post_call_analytics.approved import ApprovedModels, approved_models
from pipelines.processing_steps import (
    Instances,
    Models,
    StepFactory,
    analysis_chain,
    execution_role,
    flag_parameters,
    instance_parameters,
    pipeline_session,
)


@dataclass(frozen=True)
class BatchParameters:
    """Every knob of a run; each can be overridden when starting an execution (the models cannot)."""

    input_calls: ParameterString
    output_prefix: ParameterString
    instances: Instances
    flags: dict[str, Parameter]  # the analysis flags of callscope.flags: Flag.dest -> parameter

    def all(self) -> list:
        return [self.input_calls, self.output_prefix, *self.instances.all(), *self.flags.values()]


def batch_parameters(default_bucket: str, base_job_prefix: str) -> BatchParameters:
    data = f"s3://{default_bucket}/{base_job_prefix}"
    return BatchParameters(
        input_calls=ParameterString("InputCalls", default_value=f"{data}/calls"),
        output_prefix=ParameterString("OutputPrefix", default_value=f"{data}/runs"),
        instances=instance_parameters(),
        # Media and results of Amazon Transcribe jobs go to the pipeline's bucket unless told otherwise.
        flags=flag_parameters(MODEL_FLAGS + ENRICH_FLAGS + TRANSCRIBE_FLAGS + RUN_FLAGS, {"s3_bucket": default_bucket}),
    )


def get_pipeline(
    region: str,
    role: str | None = None,
    default_bucket: str | None = None,
    pipeline_name: str = "CallscopePostCallAnalytics",
    model_package_group_name: str = "callscope",
    base_job_prefix: str = "callscope",
    approved: ApprovedModels | dict | None = None,
    sagemaker_session: PipelineSession | None = None,
) -> Pipeline:
    """The pipeline, as the SageMaker project templates' `get_pipeline` builds it.

    It runs the latest Approved package of the groups `<model_package_group_name>-diarization` and
    `-transcription`, asked of SageMaker (NoApprovedModel, one line, when a group has none);
    `approved` gives them instead (a run on this machine, tests). `role` and `default_bucket` default
    to the session's (which asks AWS).
    """
    session = pipeline_session(region, default_bucket, sagemaker_session)
    if isinstance(approved, dict):
        approved = ApprovedModels.from_dict(approved)
    approved = approved or approved_models(session.sagemaker_client, model_package_group_name)
    role = role or execution_role(session)
    p = batch_parameters(default_bucket or session.default_bucket(), base_job_prefix)
    make = StepFactory(session, role, base_job_prefix, p.output_prefix, p.instances.volume_size)
    models = Models(approved.diarization.image, approved.transcription.image,
                    diarization_data=approved.diarization.model_data,
                    transcription_data=approved.transcription.model_data)
    analysis_chain(make, p.instances, models, p.flags, "", p.input_calls, "calls",
                   {})
    return Pipeline(name=pipeline_name, parameters=p.all(), steps=make.steps, sagemaker_session=session)
