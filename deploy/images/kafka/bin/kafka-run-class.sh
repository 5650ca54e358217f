#!/usr/bin/env bash
# kafka-run-class.sh <main class> [args]: the JVM with /opt/kafka/libs on the classpath and the logging
# configuration of both backends (3.x reads log4j.properties, 4.x log4j2.properties; each ignores the other).
set -euo pipefail
main="$1"; shift
: "${KAFKA_LOG4J_OPTS:=-Dlog4j.configuration=file:/opt/kafka/config/${LOG4J_FILE:-tools-log4j.properties} -Dlog4j2.configurationFile=/opt/kafka/config/${LOG4J2_FILE:-tools-log4j2.properties}}"
# shellcheck disable=SC2086 # the *_OPTS variables hold several options, as in the official scripts
exec java ${KAFKA_HEAP_OPTS:--Xmx256m} ${KAFKA_JVM_PERFORMANCE_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true} \
  $KAFKA_LOG4J_OPTS ${KAFKA_OPTS:-} -cp '/opt/kafka/libs/*' "$main" "$@"
