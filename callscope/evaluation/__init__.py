"""Scoring callscope's output against references (needs the `local` extra: pyannote.metrics).

`callscope.evaluation.diarization` scores who-spoke-when (RTTM) with DER and JER;
`callscope.evaluation.rttm` reads RTTM and UEM files.
"""
