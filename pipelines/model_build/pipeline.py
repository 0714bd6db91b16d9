"""The model-build SageMaker Pipeline: the models are evaluated on a labelled set and registered only
if good enough, as the exact archives the evaluated steps ran.

    Package ─► model.tar.gz (Whisper), model.tar.gz (diarizer)
        │                                    (the model channel of each step below)
    labelled set ─► Prepare ─► Diarize ─► Transcribe ─► Enrich ─► Evaluate ─► WER and DER within bounds?
                                                       ├─ yes: register both packages (PendingManualApproval)
                                                       └─ no: fail, naming the metrics

Each registered package's ModelDataUrl is the archive the Package step wrote and the Diarize or
Transcribe step read; its image is the one that ran it; its metadata records the settings, the
metrics' report and the commit. Approving a package is what lets the batch pipeline
(pipelines/post_call_analytics) and the deploy (docs/AWS.md) use it. Needs the `pipelines` extra.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
from sagemaker.core.workflow.conditions import ConditionLessThanOrEqualTo
from sagemaker.core.workflow.functions import Join, JsonGet
from sagemaker.core.workflow.parameters import Parameter, ParameterFloat, ParameterString
from sagemaker.core.workflow.pipeline_context import PipelineSession
from sagemaker.core.workflow.properties import PropertyFile
from sagemaker.mlops.workflow.condition_step import ConditionStep
from sagemaker.mlops.workflow.fail_step import FailStep
from sagemaker.mlops.workflow.model_step import ModelStep
from sagemaker.mlops.workflow.pipeline import Pipeline
from sagemaker.mlops.workflow.steps import CacheConfig
from sagemaker.serve.model_builder import ModelBuilder

from callscope.flags import MODEL_FLAGS, RUN_FLAGS
from callscope.sagemaker_steps.package_models import FLAGS as PACKAGE_FLAGS
from pipelines.post_call_analytics.layout import EVALUATION_REPORT, PROCESSING
from pipelines.processing_steps import (
    Instances,
    Models,
    StepFactory,
    analysis_chain,
    archive_in,
    execution_role,
    flag_arguments,
    flag_parameters,
    instance_parameters,
    output_of,
    pipeline_session,
)

PYANNOTE_CHANNEL = "pyannote"
# SageMaker keys a processing step's cache on its image, arguments, environment and inputs: an execution
# with the same images, settings and labelled set as one in the last 30 days reuses its packages,
# results and evaluation (a cached step's outputs are the earlier run's, so the next step's inputs match
# too). New images (a new commit) or another parameter run everything again. Not in the batch pipeline:
# new calls arrive under the same InputCalls prefix.
LABELLED_CACHE = CacheConfig(enable_caching=True, expire_after="P30D")


@dataclass(frozen=True)
class BuildParameters:
    labelled_set: ParameterString
    output_prefix: ParameterString
    diarization_image: ParameterString
    transcription_image: ParameterString
    transcribe_image: ParameterString  # the Transcribe step's: the GPU build when there is one
    instances: Instances
    flags: dict[str, Parameter]  # the model flags of callscope.flags: Flag.dest -> parameter
    max_wer: ParameterFloat
    max_der: ParameterFloat
    approval_status: ParameterString
    extra: tuple[Parameter, ...] = ()  # those of optional inputs, when given

    def all(self) -> list:
        return [self.labelled_set, self.output_prefix, self.diarization_image, self.transcription_image,
                self.transcribe_image, *self.instances.all(), *self.flags.values(), self.max_wer, self.max_der,
                self.approval_status, *self.extra]


def build_parameters(default_bucket: str, base_job_prefix: str, diarization_image_uri: str,
                     transcription_image_uri: str, transcription_gpu_image_uri: str = "") -> BuildParameters:
    data = f"s3://{default_bucket}/{base_job_prefix}"
    return BuildParameters(
        labelled_set=ParameterString("LabelledSet", default_value=f"{data}/labelled"),
        output_prefix=ParameterString("OutputPrefix", default_value=f"{data}/model-build"),
        diarization_image=ParameterString("DiarizationImageUri", default_value=diarization_image_uri),
        transcription_image=ParameterString("TranscriptionImageUri", default_value=transcription_image_uri),
        transcribe_image=ParameterString("TranscribeImageUri",
                                         default_value=transcription_gpu_image_uri or transcription_image_uri),
        instances=instance_parameters(),
        flags=flag_parameters(MODEL_FLAGS + RUN_FLAGS, {}),
        max_wer=ParameterFloat("MaxWER", default_value=0.35),
        max_der=ParameterFloat("MaxDER", default_value=0.25),
        approval_status=ParameterString("ModelApprovalStatus", default_value="PendingManualApproval"),
    )


def get_pipeline(
    region: str,
    role: str | None = None,
    default_bucket: str | None = None,
    pipeline_name: str = "CallscopeModelBuild",
    model_package_group_name: str = "callscope",
    base_job_prefix: str = "callscope",
    diarization_image_uri: str = "callscope-diarization:latest",
    transcription_image_uri: str = "callscope-transcription:latest",
    transcription_gpu_image_uri: str = "",
    pyannote_pipeline_uri: str = "",
    commit: str = "",
    sagemaker_session: PipelineSession | None = None,
) -> Pipeline:
    """The pipeline, as the SageMaker project templates' `get_pipeline` builds it.

    Model packages go to the groups `<model_package_group_name>-diarization` and `-transcription`;
    `commit` (CodeBuild's source version) is recorded on them. `transcription_gpu_image_uri` (the image
    built with GPU=1) runs the Transcribe step, whose default instance has a GPU, and is registered as
    the transcription package's image, since it is what ran the model (it runs on a CPU too).
    `pyannote_pipeline_uri`, an S3 prefix holding a pyannote.audio pipeline directory (its config.yaml
    and the model folders it names), makes the diarization package that pipeline instead of the
    embedded diarizer's models: PackageModels reads it through its `pyannote` input (parameter
    PyannotePipeline) and the Diarize step runs it. `role` and `default_bucket` default to the
    session's (which asks AWS); give both to build offline.
    """
    session = pipeline_session(region, default_bucket, sagemaker_session)
    role = role or execution_role(session)
    p = build_parameters(default_bucket or session.default_bucket(), base_job_prefix, diarization_image_uri,
                         transcription_image_uri, transcription_gpu_image_uri)
    make = StepFactory(session, role, base_job_prefix, p.output_prefix, p.instances.volume_size, LABELLED_CACHE)
    package_inputs, package_given = {}, {}
    if pyannote_pipeline_uri:  # an optional model input: the diarization package is this pipeline
        pyannote = ParameterString("PyannotePipeline", default_value=pyannote_pipeline_uri)
        p = replace(p, extra=(pyannote,))
        package_inputs = {PYANNOTE_CHANNEL: (pyannote, False)}
        package_given = {"diarizer": "pyannote", "pyannote_pipeline": f"{PROCESSING}/input/{PYANNOTE_CHANNEL}"}
    package = make.step("PackageModels", "package_models", p.transcription_image, p.instances.prepare_type, 1,
                        package_inputs,
                        {"transcription": make.output_uri("models", "transcription"),
                         "diarization": make.output_uri("models", "diarization")},
                        flag_arguments(PACKAGE_FLAGS, p.flags, package_given))
    models = Models(p.diarization_image, p.transcription_image,
                    diarization_data=archive_in(output_of(package, "diarization")),
                    transcription_data=archive_in(output_of(package, "transcription")),
                    transcribe_image=p.transcribe_image)
    # Never redacted: its transcripts are scored word by word against the references; always the
    # packaged models (Asr whisper): their WER and DER gate their registration.
    diarized, enriched = analysis_chain(make, p.instances, models, p.flags, "Labelled", p.labelled_set, "labelled",
                                        {"asr": "whisper", "redact": "no"})
    report = PropertyFile(name="EvaluationReport", output_name="evaluation", path=EVALUATION_REPORT)
    evaluate = make.step("Evaluate", "evaluate", p.transcription_image, p.instances.enrich_type, 1,
                         {"results": (output_of(enriched, "results"), False),
                          "diarized": (output_of(diarized, "bundles"), False), "references": (p.labelled_set, False)},
                         {"evaluation": make.output_uri("evaluation")}, property_files=[report])
    evaluation_uri = Join(on="/", values=[output_of(evaluate, "evaluation"), EVALUATION_REPORT])
    wer = JsonGet(step_name=evaluate.name, property_file=report, json_path="metrics.wer.value")
    der = JsonGet(step_name=evaluate.name, property_file=report, json_path="metrics.der.value")

    settings = {"WhisperModel": p.flags["model"], "Diarizer": package_given.get("diarizer", p.flags["diarizer"]),
                "ComputeType": p.flags["compute_type"], "BeamSize": p.flags["beam_size"].to_string(),
                "Commit": commit or "unknown", "WER": Join(on="", values=[wer]), "DER": Join(on="", values=[der])}

    def register(name: str, kind: str, image, data, instance_type) -> ModelStep:
        builder = ModelBuilder(image_uri=image, s3_model_data_url=data, role_arn=role, sagemaker_session=session)
        metrics = ModelMetrics(model_statistics=MetricsSource(content_type="application/json", s3_uri=evaluation_uri))
        return ModelStep(name=name, step_args=builder.register(
            model_package_group_name=f"{model_package_group_name}-{kind}", approval_status=p.approval_status,
            model_metrics=metrics, customer_metadata_properties=settings,
            content_types=["application/json", "audio/wav", "audio/mpeg", "audio/flac"],
            response_types=["application/json"], inference_instances=[instance_type],
            transform_instances=[instance_type],
        ))

    registrations = [
        register("RegisterDiarizationModel", "diarization", p.diarization_image, models.diarization_data,
                 p.instances.diarization_type),
        register("RegisterTranscriptionModel", "transcription", p.transcribe_image, models.transcription_data,
                 p.instances.transcription_type),
    ]
    fail = FailStep(name="MetricsOutOfBounds", error_message=Join(on=" ", values=[
        "WER", wer, "(at most", p.max_wer, ") or DER", der, "(at most", p.max_der,
        ") out of bounds: models not registered"]))
    gate = ConditionStep(
        name="CheckWERAndDER",
        conditions=[ConditionLessThanOrEqualTo(left=wer, right=p.max_wer),
                    ConditionLessThanOrEqualTo(left=der, right=p.max_der)],
        if_steps=registrations, else_steps=[fail],
    )
    return Pipeline(name=pipeline_name, parameters=p.all(), steps=[*make.steps, gate], sagemaker_session=session)
