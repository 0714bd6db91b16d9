"""AWS service layers shared by the commands that use AWS (boto3 is imported lazily: `callscope[aws]`).

Amazon Transcribe batch jobs, standard and Call Analytics, one module a job (lowest first):
- `errors`: AWS service errors as one-line CallscopeErrors (`service_error`, `aws_errors`).
- `clients`: boto3 clients with botocore's standard retries.
- `transcribe_requests`: typed, validated requests, idempotent job names, Start*Job parameters.
- `transcribe_runs`: running a job (reuse of a job of that name, polling with backoff).
- `s3_objects`: media uploads and reading a finished job's result from S3.
"""
