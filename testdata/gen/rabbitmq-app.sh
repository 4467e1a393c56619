#!/usr/bin/env bash
# Starts or stops the private RabbitMQ node used by the gen__app-stomp-*
# captures (Debian rabbitmq-server 3.10 with rabbitmq_web_stomp).
#
#   bash testdata/gen/rabbitmq-app.sh start STATE_DIR   # waits until Web-STOMP listens
#   bash testdata/gen/rabbitmq-app.sh stop  STATE_DIR
#
# Node wsdump-app@localhost; ports: AMQP 5680, STOMP 61620, Web-STOMP 15680,
# Erlang distribution 25680. All state (mnesia, logs, plugins file, config)
# lives in STATE_DIR so it does not touch a system node or other private nodes.
# Another node (e.g. the gen__seed-* captures') is run by setting RMQ_NAME and
# RMQ_PORT_BASE (AMQP 5600+B, STOMP 61540+B, Web-STOMP 15600+B, dist 25600+B);
# the defaults give the node and ports above.
set -euo pipefail
cmd=$1 dir=$2
B=${RMQ_PORT_BASE:-80}
export RABBITMQ_NODENAME=${RMQ_NAME:-wsdump-app}@localhost
export RABBITMQ_MNESIA_BASE=$dir/mnesia RABBITMQ_LOG_BASE=$dir/log
export RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins
export RABBITMQ_CONFIG_FILE=$dir/rabbitmq # .conf is appended
export RABBITMQ_ADVANCED_CONFIG_FILE=$dir/advanced.config
export RABBITMQ_PID_FILE=$dir/pid
export RABBITMQ_NODE_PORT=$((5600 + B)) RABBITMQ_DIST_PORT=$((25600 + B))
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
case $cmd in
start)
	mkdir -p "$dir/mnesia" "$dir/log"
	echo '[rabbitmq_stomp,rabbitmq_web_stomp].' >"$dir/enabled_plugins"
	cat >"$dir/rabbitmq.conf" <<CONF
listeners.tcp.default = 127.0.0.1:$((5600 + B))
stomp.listeners.tcp.1 = 127.0.0.1:$((61540 + B))
web_stomp.tcp.port = $((15600 + B))
web_stomp.tcp.ip = 127.0.0.1
loopback_users = none
CONF
	echo '[].' >"$dir/advanced.config"
	# Debian's rabbitmq-server drops to the rabbitmq user
	chown -R rabbitmq:rabbitmq "$dir" 2>/dev/null || true
	rabbitmq-server >"$dir/server.out" 2>&1 &
	pid=$!
	for _ in $(seq 120); do
		kill -0 "$pid" 2>/dev/null || break
		if ss -Htln "( sport = :$((15600 + B)) )" | grep -q . && ss -Htln "( sport = :$((61540 + B)) )" | grep -q .; then
			# the listeners open before the broker has finished booting
			rabbitmqctl -n "$RABBITMQ_NODENAME" await_startup >/dev/null
			exit 0
		fi
		sleep 0.5
	done
	tail -30 "$dir/server.out" >&2
	exit 1 ;;
stop)
	rabbitmqctl -n "$RABBITMQ_NODENAME" stop "$dir/pid" >/dev/null 2>&1 || true ;;
esac
