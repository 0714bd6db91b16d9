"""Print containers/constraints.txt: the installed version of every package callscope's image extras pull in.

Run it in an environment where `pip install -c constraints.txt ".[local,aws,pyannote,eval]"` passed the
tests, on Python 3.11 (the images' Python) and Linux x86_64:

    .venv/bin/python containers/pins.py > containers/constraints.txt
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, distribution

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

EXTRAS = ("local", "aws", "pyannote", "eval")
# torch is pinned in ../constraints.txt without a local label, so one pin serves +cpu and +cu126 wheels.
LEFT_OUT = {"callscope", "torch"}
HEADER = """\
# Pins for the container images (containers/*/Dockerfile), used beside ../constraints.txt (which pins
# torch, boto3 and botocore): every package callscope[local,aws,pyannote,eval] pulls in, at the version
# the test suite ran with on Python 3.11, Linux x86_64. Regenerate from such an environment after
# changing setup.py's dependencies (containers/README.md, "Updating the pins").
"""
# The images' platform, so the closure is the images' even when this runs elsewhere.
_PLATFORM = {"python_version": "3.11", "python_full_version": "3.11.13", "sys_platform": "linux",
             "platform_system": "Linux", "platform_machine": "x86_64", "os_name": "posix",
             "implementation_name": "cpython", "platform_python_implementation": "CPython"}


def closure(name: str, extras: tuple[str, ...]) -> dict[str, str]:
    """Installed versions of `name[extras]` and everything it requires, by canonical name."""
    versions: dict[str, str] = {}
    extras_seen: dict[str, set[str]] = {}
    pending = [(name, set(extras))]
    while pending:
        package, wanted = pending.pop()
        key = canonicalize_name(package)
        if key in versions and wanted <= extras_seen[key]:
            continue
        try:
            dist = distribution(package)
        except PackageNotFoundError:
            sys.exit(f"{package} is required but not installed here")
        versions[key] = dist.version
        extras_seen[key] = extras_seen.get(key, set()) | wanted
        for line in dist.requires or ():
            requirement = Requirement(line)
            needed = requirement.marker is None or any(
                requirement.marker.evaluate({**_PLATFORM, "extra": extra}) for extra in ("", *extras_seen[key]))
            if needed:
                pending.append((requirement.name, set(requirement.extras)))
    return versions


def main() -> None:
    versions = closure("callscope", EXTRAS)
    pins = "".join(f"{name}=={versions[name]}\n" for name in sorted(versions) if name not in LEFT_OUT)
    sys.stdout.write(HEADER + pins)


if __name__ == "__main__":
    main()
