#!/usr/bin/env bash
# kafka-server-start.sh <server.properties>: the broker, logging to stdout.
export KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx1G -Xms1G}" LOG4J_FILE=log4j.properties LOG4J2_FILE=log4j2.properties
exec "$(dirname "$0")/kafka-run-class.sh" kafka.Kafka "$@"
