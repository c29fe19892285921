"""The JVM artifacts of the services, fetched from Maven Central once into a cache outside the work tree.

Each lands in a ``.partial`` directory renamed into place when complete, so an interrupted fetch is
redone rather than half-used.
"""

from __future__ import annotations

import shutil
import subprocess

from localinfra.config import (
    APICURIO_CONVERTER_VERSION,
    APICURIO_HOME,
    APICURIO_VERSION,
    CONNECT_PLUGINS,
    DEBEZIUM_JDBC_VERSION,
    INFRA,
    KAFKA_LIBS,
    KAFKA_VERSION,
)
from localinfra.errors import InfraError
from localinfra.tools import java, mvn


def fetch_kafka() -> None:
    """Kafka's classpath also runs the Connect worker (connect-runtime is part of it)."""
    if not (KAFKA_LIBS / f"kafka_2.13-{KAFKA_VERSION}.jar").exists():
        print(f"fetching Apache Kafka {KAFKA_VERSION} from Maven Central ...", flush=True)
        tmp = KAFKA_LIBS.with_name("libs.partial")
        shutil.rmtree(tmp, ignore_errors=True)
        mvn(
            "dependency:copy-dependencies",
            f"-Dkafka.version={KAFKA_VERSION}",
            f"-DoutputDirectory={tmp}",
            "-DincludeScope=runtime",
        )
        shutil.rmtree(KAFKA_LIBS, ignore_errors=True)
        tmp.rename(KAFKA_LIBS)


def fetch_registry() -> None:
    if not (APICURIO_HOME / "quarkus-run.jar").exists():
        print(f"fetching Apicurio Registry {APICURIO_VERSION} from Maven Central ...", flush=True)
        tmp = APICURIO_HOME.with_name(APICURIO_HOME.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        mvn(
            "dependency:unpack",
            f"-Dartifact=io.apicurio:apicurio-registry-app:{APICURIO_VERSION}:tar.gz:all",
            f"-DoutputDirectory={tmp}",
            "-Dmdep.overWriteReleases=true",
        )
        if not (tmp / "quarkus-run.jar").exists():
            raise InfraError(f"the Apicurio archive did not contain quarkus-run.jar (looked in {tmp})")
        shutil.rmtree(APICURIO_HOME, ignore_errors=True)
        tmp.rename(APICURIO_HOME)


def fetch_connect_plugins() -> None:
    """One directory per plugin, as Connect's ``plugin.path`` wants: the JDBC sink and the Avro converter.

    Every plugin gets ServiceLoader manifests (Kafka's ``connect-plugin-path sync-manifests`` adds the
    converter's, which it lacks), so that the worker finds plugins without scanning classes: ~10 s less
    per start on two cores. The marker file says the directory is complete.
    """
    ready = CONNECT_PLUGINS / ".complete"
    if ready.exists():
        return
    print(
        f"fetching the Debezium JDBC sink {DEBEZIUM_JDBC_VERSION} and the Apicurio Avro converter "
        f"{APICURIO_CONVERTER_VERSION} from Maven Central ...",
        flush=True,
    )
    tmp = CONNECT_PLUGINS.with_name(CONNECT_PLUGINS.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    mvn(
        "dependency:unpack",
        f"-Dartifact=io.debezium:debezium-connector-jdbc:{DEBEZIUM_JDBC_VERSION}:tar.gz:plugin",
        f"-DoutputDirectory={tmp}",
        "-Dmdep.overWriteReleases=true",
    )
    mvn(
        "dependency:copy-dependencies",
        f"-Dapicurio.converter.version={APICURIO_CONVERTER_VERSION}",
        f"-DoutputDirectory={tmp / 'apicurio-avro-converter'}",
        "-DincludeScope=runtime",
        pom=INFRA / "connect" / "pom.xml",
    )
    for jar in (
        tmp / "debezium-connector-jdbc" / f"debezium-connector-jdbc-{DEBEZIUM_JDBC_VERSION}.jar",
        tmp / "apicurio-avro-converter" / f"apicurio-registry-utils-converter-{APICURIO_CONVERTER_VERSION}.jar",
    ):
        if not jar.exists():
            raise InfraError(f"the Connect plugins are incomplete: {jar} is missing")
    sync = [
        java(),
        f"-Dlog4j2.configurationFile={INFRA / 'connect' / 'log4j2.properties'}",
        "-cp",
        f"{KAFKA_LIBS}/*",
        "org.apache.kafka.tools.ConnectPluginPath",
        "sync-manifests",
        "--plugin-path",
        str(tmp),
    ]
    proc = subprocess.run(sync, capture_output=True, text=True)
    if proc.returncode != 0:
        raise InfraError(f"adding ServiceLoader manifests to the Connect plugins failed:\n{proc.stdout}{proc.stderr}")
    (tmp / ".complete").write_text(f"{DEBEZIUM_JDBC_VERSION} {APICURIO_CONVERTER_VERSION}\n")
    shutil.rmtree(CONNECT_PLUGINS, ignore_errors=True)
    tmp.rename(CONNECT_PLUGINS)
