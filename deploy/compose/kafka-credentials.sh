#!/usr/bin/env bash
# docker-compose.yml's kafka-credentials (one-shot, as root): the Kafka SASL passwords, made on the first start and
# kept in volumes (`docker compose down -v` deletes them with the Kafka data formatted with them; they are never
# rotated, as the broker created its SCRAM users from them when it formatted its storage).
#   /kafka-sasl (the broker's, user 1000): broker (its own SASL/PLAIN identity) and scram/<user> for every SCRAM user
#   /sasl/<service>/password (user 10001, 0400): each Chainlog service's own password, in a volume only it mounts
#   (reader: the cli service's read-only principal, for chain verify and chain tail --kafka)
# The users are services/operator/src/kafka/acls.ts's scramUsers() (test/kafka-sasl-config.test.ts checks).
set -euo pipefail
umask 077
password() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
mkdir -p /kafka-sasl/scram
[ -s /kafka-sasl/broker ] || password >/kafka-sasl/broker
for user in chainlog-admin chainlog-ingest chainlog-miner chainlog-auditor chainlog-reader; do
  [ -s "/kafka-sasl/scram/$user" ] || password >"/kafka-sasl/scram/$user"
done
chown -R 1000:1000 /kafka-sasl
for service in admin ingest miner auditor reader; do
  install -o 10001 -g 10001 -m 0400 "/kafka-sasl/scram/chainlog-$service" "/sasl/$service/password"
done
echo "Kafka SASL credentials ready"
