"""AWS service layers shared by the commands that use AWS (boto3 is imported lazily: `callscope[aws]`).

- `transcribe_jobs`: Amazon Transcribe batch jobs (typed request, idempotent job names, reuse,
  polling with backoff, results and media in S3, one-line errors).
"""
