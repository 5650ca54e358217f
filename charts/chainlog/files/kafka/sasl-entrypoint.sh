#!/usr/bin/env bash
# Chainlog's bundled Kafka with SASL and ACLs: runs before the image's own entrypoint (/etc/kafka/docker/run of
# apache/kafka and of the local stand-in), in the chart's and the operator's Kafka pods and in docker-compose.yml.
#  - The controller and inter-broker listeners (CONTROLLER, INTERNAL) authenticate the brokers themselves with
#    SASL/PLAIN as the super user `broker`, password $dir/broker: SCRAM cannot secure the KRaft controller
#    listener (SCRAM credentials live in the metadata log the controllers serve).
#  - The KRaft storage is formatted once with one SCRAM-SHA-512 credential per file of $dir/scram (file name =
#    user, content = password), so the users exist from the first metadata record: there is no window with a
#    broker nobody can log in to. A formatted volume is left as it is (--ignore-formatted): credentials are
#    never rotated by a restart.
#  - /tmp/chainlog-broker.properties: client settings as `broker`, for health checks inside the container.
# Then the image's entrypoint writes server.properties from the KAFKA_* variables and runs the broker.
set -euo pipefail
dir="${CHAINLOG_KAFKA_SASL_DIR:-/etc/chainlog/kafka-sasl}"
umask 077
password="$(tr -d '\r\n' <"$dir/broker")"
[ -n "$password" ] || { echo "no broker password in $dir/broker" >&2; exit 2; }
plain="org.apache.kafka.common.security.plain.PlainLoginModule required username=\"broker\" password=\"$password\" user_broker=\"$password\";"
export KAFKA_LISTENER_NAME_CONTROLLER_PLAIN_SASL_JAAS_CONFIG="$plain"
export KAFKA_LISTENER_NAME_INTERNAL_PLAIN_SASL_JAAS_CONFIG="$plain"
printf 'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="broker" password="%s";\n' \
  "$password" >/tmp/chainlog-broker.properties

# The same KAFKA_* -> property convention as the images (KAFKA_FOO__BAR___BAZ -> foo_bar-baz), for the format only.
config="$(mktemp /tmp/chainlog-format.XXXXXX)"
trap 'rm -f "$config"' EXIT
while IFS='=' read -r var _; do
  case "$var" in KAFKA_*) ;; *) continue ;; esac
  case " KAFKA_VERSION KAFKA_HEAP_OPTS KAFKA_OPTS KAFKA_LOG4J_OPTS KAFKA_JMX_OPTS KAFKA_JVM_PERFORMANCE_OPTS KAFKA_GC_LOG_OPTS KAFKA_LOG4J_ROOT_LOGLEVEL KAFKA_LOG4J_LOGGERS KAFKA_TOOLS_LOG4J_LOGLEVEL KAFKA_JMX_HOSTNAME KAFKA_JMX_PORT " in *" $var "*) continue ;; esac
  name="$(printf '%s' "${var#KAFKA_}" | tr '[:upper:]' '[:lower:]')"
  name="${name//___/-}"; name="${name//__/@}"; name="${name//_/.}"
  printf '%s=%s\n' "${name//@/_}" "${!var}" >>"$config"
done < <(env)
args=(format -t "${CLUSTER_ID:?CLUSTER_ID is required}" -c "$config" --ignore-formatted)
for file in "$dir"/scram/*; do
  [ -f "$file" ] || continue
  user="$(basename "$file")"
  args+=(--add-scram "SCRAM-SHA-512=[name=$user,password=$(tr -d '\r\n' <"$file")]")
done
/opt/kafka/bin/kafka-storage.sh "${args[@]}" >/dev/null
rm -f "$config"
exec /etc/kafka/docker/run
