"""Call metadata carried in the file name, in the reference system's convention.

``Auto0_GUID_000_AGENT_ChrisL_DT_2025-02-19T06-01-22_Mono.wav`` → GUID 000, agent ChrisL,
conversation time 2025-02-19 06:01:22. The patterns are options, as in the reference deployment.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from callscope.model import CallMetadata
from callscope.options import FilenameMetadataOptions

# A GUID derived from the content, for files whose names carry none: the same recording always
# gets the same id, wherever it is stored.
_CONTENT_NAMESPACE = uuid.UUID("6f0c3b8e-3c39-4f7e-9d1c-2a4f7c6f1a10")


def metadata_from_filename(
    filename: str, content_sha256: str, options: FilenameMetadataOptions = FilenameMetadataOptions()
) -> CallMetadata:
    return CallMetadata(
        guid=_first_match(options.guid_pattern, filename) or str(uuid.uuid5(_CONTENT_NAMESPACE, content_sha256)),
        agent=_first_match(options.agent_pattern, filename),
        customer=_first_match(options.customer_pattern, filename),
        conversation_time=_conversation_time(filename, options),
        location=options.location,
    )


def _first_match(pattern: str, filename: str) -> str:
    match = re.search(pattern, filename)
    return " ".join(match.groups()) if match and match.groups() else ""


def _conversation_time(filename: str, options: FilenameMetadataOptions) -> datetime | None:
    match = re.search(options.datetime_pattern, filename)
    if not match:
        return None
    try:
        return datetime.strptime(" ".join(match.groups()), options.datetime_format)
    except ValueError:  # a date-shaped string that is no date, e.g. month 13
        return None
