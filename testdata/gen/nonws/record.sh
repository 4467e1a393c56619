#!/usr/bin/env bash
# Records the NON-WebSocket fixtures testdata/pcaps/nonws__*.pcap (real HTTP/1.1,
# TLS, SSH, Redis and PostgreSQL traffic, and the same kinds of traffic captured
# mid-stream) and the mid-stream WebSocket fixtures gen__ws-midstream*.pcap
# (+ .messages.tsv and .captured-from.txt). Called by ../record.sh; runs alone too:
#
#   sudo bash testdata/gen/nonws/record.sh            # all scenarios
#   sudo bash testdata/gen/nonws/record.sh redis      # names containing "redis"
#
# Needs: root, tcpdump, tshark, unshare, python3, node + `npm ci` in testdata/gen,
# and the Debian packages nginx-light (or nginx), openssh-server, openssh-client,
# redis-server, redis-tools, postgresql-15, curl, openssl.
#
# Every scenario runs in its own private network + mount namespace
# (unshare --net --mount): servers listen on that namespace's lo, on their
# Debian default ports (80, 443, 22, 6379, 5432) and on ports 49000-49499, so
# nothing collides with the host, and the capture holds only this traffic.
# A tmpfs is mounted on /run inside the namespace (sshd wants /run/sshd).
# Server state (configs, keys, database, payloads) lives in a temporary folder
# that is removed afterwards; every process started is stopped by its pid.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GEN=$(dirname "$HERE")
OUT=$(mkdir -p "$GEN/../pcaps" && cd "$GEN/../pcaps" && pwd)
SELF="$HERE/record.sh"
PGBIN=/usr/lib/postgresql/15/bin

log() { printf '[nonws] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

SCENARIOS=(nonws__http-keepalive nonws__tls nonws__ssh nonws__redis nonws__postgres
	nonws__mixed-midstream gen__ws-midstream gen__ws-midstream-deflate)

# ---------------------------------------------------------------- helpers (run inside the namespace)

PIDS=()
cleanup() {
	local p
	if [ -n "${CAP_PID:-}" ] && kill -0 "$CAP_PID" 2>/dev/null; then
		kill -INT "$CAP_PID"
		wait "$CAP_PID" || true
	fi
	local i
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do # clients (started last) first
		kill -- "-${PIDS[i]}" 2>/dev/null || kill "${PIDS[i]}" 2>/dev/null || true
	done
	if [ -n "${T:-}" ] && [ -f "$T/pg/postmaster.pid" ]; then
		runuser -u postgres -- "$PGBIN/pg_ctl" -D "$T/pg" -m fast -w stop >/dev/null 2>&1 || true
	fi
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}

# bg CMD...: start CMD in the background as its own process group (setsid), so
# cleanup can stop it and everything it started (pipelines, ssh under scp)
bg() {
	setsid "$@" &
	PIDS+=($!)
}

# wait_port PORT: until something listens on 127.0.0.1:PORT
wait_port() {
	local i
	for i in $(seq 100); do
		ss -Htln "sport = :$1" | grep -q . && return 0
		sleep 0.1
	done
	die "nothing listens on port $1"
}

# cap_start FILE FILTER: tcpdump on lo, returns once it is listening
cap_start() {
	CAP_FILE=$1
	CAP_ERR=$T/tcpdump.err
	rm -f "$CAP_FILE"
	tcpdump -i lo -B 16384 -s 0 -Z root -w "$CAP_FILE" "$2" 2>"$CAP_ERR" &
	CAP_PID=$!
	local i
	for i in $(seq 100); do
		grep -q 'listening on' "$CAP_ERR" && return 0
		kill -0 "$CAP_PID" 2>/dev/null || { cat "$CAP_ERR" >&2; die "tcpdump exited"; }
		sleep 0.1
	done
	die "tcpdump not ready"
}
# cap_stop [WAIT]: wait (default 2 s, so the ring hands over the tail), stop tcpdump
cap_stop() {
	sleep "${1:-2}"
	kill -INT "$CAP_PID"
	wait "$CAP_PID" || true
	if grep -E '[1-9][0-9]* packets? dropped' "$CAP_ERR" >&2 2>/dev/null; then
		log "WARNING: tcpdump reported drops for $CAP_FILE"
	fi
	chmod 644 "$CAP_FILE"
	log "wrote $CAP_FILE ($(stat -c %s "$CAP_FILE") bytes)"
}

SSHOPT=()
start_nginx() { # plain HTTP on 80 + 49080, TLS on 443 + 49443, upstream http_backend.py on 49081
	mkdir -p "$T/nginx"
	openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj '/CN=localhost' \
		-addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' \
		-keyout "$T/nginx/key.pem" -out "$T/nginx/cert.pem" 2>/dev/null
	cat >"$T/nginx/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 1;
user root;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log warn;
events { worker_connections 256; }
http {
	include /etc/nginx/mime.types;
	default_type application/octet-stream;
	access_log $T/nginx/access.log;
	client_body_temp_path $T/nginx/body;
	proxy_temp_path $T/nginx/proxy;
	fastcgi_temp_path $T/nginx/fastcgi;
	uwsgi_temp_path $T/nginx/uwsgi;
	scgi_temp_path $T/nginx/scgi;
	sendfile on;
	keepalive_timeout 60;
	keepalive_requests 1000;
	gzip on;
	gzip_comp_level 5;
	gzip_min_length 256;
	gzip_types text/plain text/css application/json application/javascript;
	gzip_static on;
	upstream backend { server 127.0.0.1:49081; keepalive 4; }
	server {
		listen 127.0.0.1:80;
		listen 127.0.0.1:49080;
		listen 127.0.0.1:443 ssl;
		listen 127.0.0.1:49443 ssl;
		ssl_certificate $T/nginx/cert.pem;
		ssl_certificate_key $T/nginx/key.pem;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:AES128-SHA256;
		server_name localhost;
		root $T/www;
		client_max_body_size 4m;
		location /dav/ { dav_methods PUT DELETE; create_full_put_path on; }
		location /slow/ { alias $T/www/; limit_rate 12k; } # throttled by the sender
		location /api/ {
			proxy_pass http://backend;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_buffering off;
			proxy_request_buffering off;
		}
	}
}
EOF
	bg python3 "$HERE/http_backend.py" 49081
	bg nginx -e "$T/nginx/error.log" -p "$T/nginx" -c "$T/nginx/nginx.conf"
	wait_port 80
	wait_port 443
	wait_port 49081
}

start_sshd() { # sshd on 22, root login with a temporary key
	mkdir -p /run/sshd "$T/ssh"
	chmod 755 /run/sshd
	ssh-keygen -q -t ed25519 -N '' -C wsdump-host -f "$T/ssh/host_ed25519"
	ssh-keygen -q -t ecdsa -N '' -C wsdump-host -f "$T/ssh/host_ecdsa"
	ssh-keygen -q -t ed25519 -N '' -C wsdump-client -f "$T/ssh/id_ed25519"
	cp "$T/ssh/id_ed25519.pub" "$T/ssh/authorized_keys"
	cat >"$T/ssh/sshd_config" <<EOF
Port 22
ListenAddress 127.0.0.1
HostKey $T/ssh/host_ed25519
HostKey $T/ssh/host_ecdsa
PidFile $T/ssh/sshd.pid
AuthorizedKeysFile $T/ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PrintMotd no
Subsystem sftp internal-sftp
EOF
	bg /usr/sbin/sshd -D -e -f "$T/ssh/sshd_config" -E "$T/ssh/sshd.log"
	wait_port 22
	SSHOPT=(-F /dev/null -i "$T/ssh/id_ed25519" -o BatchMode=yes -o StrictHostKeyChecking=no
		-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR)
}

start_redis() {
	bg redis-server --port 6379 --bind 127.0.0.1 --save '' --appendonly no --dir "$T" \
		--logfile "$T/redis.log" --protected-mode no
	wait_port 6379
}

PSQL=()
start_postgres() { # initdb as user postgres (initdb refuses root), trust auth, TCP 5432
	mkdir -p "$T/pg" "$T/pgsock"
	chown postgres: "$T/pg" "$T/pgsock"
	runuser -u postgres -- "$PGBIN/initdb" -D "$T/pg" -U postgres -A trust -E UTF8 --locale=C >/dev/null
	runuser -u postgres -- "$PGBIN/pg_ctl" -D "$T/pg" -l "$T/pgsock/pg.log" -w -o \
		"-p 5432 -c listen_addresses=127.0.0.1 -c unix_socket_directories=$T/pgsock -c fsync=off" start >/dev/null
	PSQL=(psql -X -h 127.0.0.1 -p 5432 -U postgres -d postgres)
}

# ---------------------------------------------------------------- scenarios (run inside the namespace)

s_http_keepalive() {
	start_nginx
	local f=$OUT/nonws__http-keepalive.pcap W=http://127.0.0.1 D=$T/data
	cap_start "$f" 'tcp port 80 or tcp port 49080 or tcp port 49081'
	# connection 1 (port 80): 10 requests on one keep-alive connection: static text with gzip
	# (chunked), PNG, pre-gzipped file, POST JSON to the upstream (chunked reply), PUT
	# binary (DAV), Range, HEAD, 404, chunked binary stream
	curl -sS --compressed -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
		$W/index.html $W/data.json $W/image.png $W/archive.txt.gz \
		--next -sS -o /dev/null -H 'Content-Type: application/json' --data-binary @"$D/form.json" "$W/api/echo?c=1" \
		--next -sS -o /dev/null -T "$D/put.bin" $W/dav/put.bin \
		--next -sS -o /dev/null -r 1000-40999 $W/blob.bin \
		--next -sS -o /dev/null -I $W/image.png \
		--next -sS -o /dev/null $W/no/such/file \
		--next -sS -o /dev/null "$W/api/stream?n=25"
	# connection 2 (port 49080): chunked POST upload, conditional GET (304), binary, gzip text
	curl -sS -o /dev/null -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/octet-stream' \
		--data-binary @"$D/upload.bin" "$W:49080/api/echo?c=2" \
		--next -sS -o /dev/null -z "$T/www/index.html" $W:49080/index.html \
		--next -sS -o /dev/null $W:49080/blob.bin \
		--next -sS -o /dev/null --compressed $W:49080/log.txt \
		--next -sS -o /dev/null "$W:49080/api/stream?n=12"
	# connections 3 + 4: two parallel keep-alive connections; HTTP/1.0 keep-alive on a fifth
	curl -sS -Z --parallel-immediate --parallel-max 2 -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
		$W/style.css $W/index.html $W/style.css "$W/api/stream?n=6" 2>/dev/null
	curl -sS -0 -H 'Connection: keep-alive' -o /dev/null -o /dev/null $W/style.css $W/image.png
	cap_stop
}

s_tls() {
	start_nginx
	local f=$OUT/nonws__tls.pcap W=https://127.0.0.1 D=$T/data
	cap_start "$f" 'tcp port 443 or tcp port 49443 or tcp port 49444'
	# TLS 1.3 (curl default, h2 via ALPN): 200 KB down, 120 KB up (PUT), JSON POST
	curl -sS -k --tlsv1.3 -o /dev/null $W/big.bin \
		--next -sS -k --tlsv1.3 -o /dev/null -T "$D/tls-up.bin" $W/dav/tls-up.bin \
		--next -sS -k --tlsv1.3 -o /dev/null --data-binary @"$D/form.json" $W/api/echo
	# TLS 1.2, HTTP/1.1 keep-alive, ECDHE-RSA-AES128-GCM-SHA256: 80 KB down, 60 KB up, gzip text
	curl -sS -k --http1.1 --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256 -o /dev/null $W:49443/blob.bin \
		--next -sS -k --http1.1 --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256 \
		-o /dev/null -T "$D/put.bin" $W:49443/dav/put2.bin \
		--next -sS -k --http1.1 --tlsv1.2 --tls-max 1.2 --ciphers ECDHE-RSA-AES128-GCM-SHA256 \
		-o /dev/null --compressed $W:49443/data.json
	# TLS 1.2 ChaCha20-Poly1305 with openssl s_client, HTTP/1.1 request by hand
	printf 'GET /log.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
		openssl s_client -quiet -connect 127.0.0.1:443 -tls1_2 -cipher ECDHE-RSA-CHACHA20-POLY1305 \
			-servername localhost >/dev/null 2>&1
	# TLS 1.2 without forward secrecy (RSA key exchange, AES128-SHA256, CBC records)
	curl -sS -k --http1.1 --tlsv1.2 --tls-max 1.2 --ciphers AES128-SHA256 -o /dev/null $W/image.png
	# openssl s_server -rev (TLS 1.3, TLS_AES_256_GCM_SHA384): ~60 KB of text lines echoed reversed
	bg openssl s_server -quiet -accept 127.0.0.1:49444 -cert "$T/nginx/cert.pem" -key "$T/nginx/key.pem" -tls1_3 -rev >"$T/s_server.log" 2>&1
	wait_port 49444
	(cat "$D/rev.txt"; sleep 1) | openssl s_client -connect 127.0.0.1:49444 -tls1_3 \
		-ciphersuites TLS_AES_256_GCM_SHA384 >/dev/null 2>&1 || true
	cap_stop
}

s_ssh() {
	start_sshd
	local f=$OUT/nonws__ssh.pcap D=$T/data H=root@127.0.0.1
	cap_start "$f" 'tcp port 22'
	# 1: commands with mixed text output (default kex/cipher: sntrup761x25519 / chacha20-poly1305)
	ssh "${SSHOPT[@]}" $H "uname -sm; id; ls -la $T/www; seq 1 3000 | paste -sd,; head -c 12000 $D/v-16k.bin | base64" >/dev/null
	# 2: scp upload of a 300 KB binary file (SFTP protocol, OpenSSH 9 default)
	scp -q "${SSHOPT[@]}" "$D/scp-300k.bin" $H:"$T/scp-up.bin"
	cmp "$D/scp-300k.bin" "$T/scp-up.bin"
	# 3: legacy scp protocol (-O) download of a smaller file
	scp -q -O "${SSHOPT[@]}" $H:"$D/v-16k.bin" "$T/scp-down.bin"
	# 4: compression + aes128-ctr / hmac-sha2-256-etm, curve25519 kex, text stream
	ssh "${SSHOPT[@]}" -C -o Ciphers=aes128-ctr -o MACs=hmac-sha2-256-etm@openssh.com \
		-o KexAlgorithms=curve25519-sha256 $H "cat $D/ssh-text.txt" >/dev/null
	# 5: pty session (interactive shell fed from a pipe), aes256-gcm, ecdsa host key
	printf 'echo hello from the pty\nls /\nprintf "%%s\\n" {1..300}\nexit\n' |
		ssh "${SSHOPT[@]}" -tt -o Ciphers=aes256-gcm@openssh.com -o HostKeyAlgorithms=ecdsa-sha2-nistp256 $H >/dev/null
	cap_stop
}

s_redis() {
	start_redis
	local f=$OUT/nonws__redis.pcap D=$T/data R=(redis-cli -h 127.0.0.1 -p 6379)
	cap_start "$f" 'tcp port 6379'
	# one connection each: binary-safe SETs through -x (values with NUL, CR LF, RESP-looking bytes)
	"${R[@]}" -x SET bin:tiny <"$D/v-tiny.bin" >/dev/null
	"${R[@]}" -x SET bin:1k <"$D/v-1k.bin" >/dev/null
	"${R[@]}" -x SET bin:16k <"$D/v-16k.bin" >/dev/null
	"${R[@]}" -x SET bin:100k <"$D/v-100k.bin" >/dev/null
	"${R[@]}" -x SET text:5k <"$D/v-text.txt" >/dev/null
	# pipelined mass insert: 201 commands (SET/HSET/LPUSH/INCRBY/ZADD) with text and binary values
	"${R[@]}" --pipe <"$D/redis-pipe.resp" >/dev/null
	# pipelined reads on one connection: RESP2 (bulk strings, arrays, integers, nil, an error)
	"${R[@]}" --pipe <"$D/redis-reads.resp" >/dev/null 2>&1 || true # exits 1: INCR on a binary value errs
	# RESP3 after HELLO 3 (maps, doubles, sets)
	"${R[@]}" --pipe <"$D/redis-reads3.resp" >/dev/null
	# pub/sub: one subscriber, 20 publishes (text and binary) from one connection, one more from another
	timeout 2 "${R[@]}" SUBSCRIBE news >/dev/null &
	local sub=$!
	sleep 0.3
	"${R[@]}" --pipe <"$D/redis-publish.resp" >/dev/null
	"${R[@]}" -x PUBLISH news <"$D/v-1k.bin" >/dev/null
	wait $sub || true
	# redis-benchmark: 2 clients per test, 100 requests, 256-byte values
	redis-benchmark -h 127.0.0.1 -p 6379 -n 100 -c 2 -d 256 -t ping,set,get,incr,lpush,hset -q >/dev/null
	cap_stop
}

s_postgres() {
	start_postgres
	local f=$OUT/nonws__postgres.pcap D=$T/data
	cap_start "$f" 'tcp port 5432'
	# 1: schema + 400 rows through COPY FROM STDIN (SSLRequest refused: server has ssl=off)
	"${PSQL[@]}" -q -v ON_ERROR_STOP=1 -f "$D/pg-setup.sql" >/dev/null
	# 2: text/bytea/jsonb/numeric rows, COPY TO STDOUT (text, binary, csv), an error, NOTICE, NOTIFY
	"${PSQL[@]}" -f "$D/pg-queries.sql" >/dev/null 2>&1
	# 3: no SSLRequest; bytea in escape output format
	PGSSLMODE=disable PGOPTIONS='-c bytea_output=escape' "${PSQL[@]}" -c 'SELECT id, data FROM blobs WHERE id BETWEEN 100 AND 160' >/dev/null
	# 4 + 5: pgbench, extended query protocol with prepared statements (Parse/Bind/Execute), 2 clients
	pgbench -n -h 127.0.0.1 -p 5432 -U postgres -M prepared -c 2 -t 25 -f "$D/pgbench.sql" postgres >/dev/null 2>&1
	cap_stop
}

s_mixed_midstream() {
	start_nginx
	start_sshd
	start_redis
	start_postgres
	"${PSQL[@]}" -q -f "$T/data/pg-setup.sql" >/dev/null
	local f=$OUT/nonws__mixed-midstream.pcap D=$T/data H=root@127.0.0.1 R=(redis-cli -h 127.0.0.1 -p 6379)
	"${R[@]}" -x SET bin:1k <"$D/v-1k.bin" >/dev/null
	"${R[@]}" --pipe <"$D/redis-pipe.resp" >/dev/null
	# long-lived sessions, all connected before the capture starts; each runs ~20 s
	# TLS 1.3 download (nginx limit_rate 12k) and TLS 1.2 chunked upload from a slow producer (~10 KB/s)
	bg curl -sS -k -o /dev/null https://127.0.0.1/slow/slow.bin
	bg sh -c 'python3 "$0/slowpipe.py" bytes "$1" | exec curl -sS -k --http1.1 --tlsv1.2 --tls-max 1.2 -o /dev/null \
		-T - https://127.0.0.1:49443/dav/slow-up.bin' "$HERE" "$D/slow-up.bin"
	# plain HTTP keep-alive, throttled by nginx: several requests on one connection, so
	# request and response headers appear mid-capture
	bg curl -sS --compressed -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
		http://127.0.0.1/slow/data.json http://127.0.0.1/slow/image.png http://127.0.0.1/slow/log.txt \
		http://127.0.0.1/slow/index.html http://127.0.0.1/slow/blob.bin http://127.0.0.1/slow/slow.bin
	# scp limited to 120 kbit/s (legacy protocol -O: with SFTP, -l sends one 256 KB burst and then
	# stalls) and an ssh session producing output every 100 ms
	bg scp -q -O -l 120 "${SSHOPT[@]}" "$D/slow-up.bin" $H:"$T/slow-scp.bin"
	bg ssh "${SSHOPT[@]}" $H 'for i in $(seq 250); do date +%s.%N; head -c 120 /dev/urandom | od -An -tx1; sleep 0.1; done' >/dev/null
	# redis: repeated GET of a 1 KiB binary value, INCR, pub/sub, and a slow --pipe
	bg "${R[@]}" -r 400 -i 0.05 GET bin:1k >/dev/null
	bg "${R[@]}" -r 400 -i 0.05 INCR mid:counter >/dev/null
	bg "${R[@]}" SUBSCRIBE midnews >/dev/null
	bg "${R[@]}" -r 300 -i 0.07 PUBLISH midnews 'mid-stream pub/sub message with some text' >/dev/null
	bg sh -c 'python3 "$0/slowpipe.py" redis "$1" | exec redis-cli -h 127.0.0.1 -p 6379 --pipe >/dev/null' "$HERE" "$D/v-1k.bin"
	# psql reading queries from a slow pipe: rows with bytea, COPY TO STDOUT
	bg sh -c 'python3 "$0/slowpipe.py" sql | exec psql -X -q -h 127.0.0.1 -p 5432 -U postgres -d postgres >/dev/null' "$HERE"
	sleep 3 # every connection established and busy
	log "$(ss -Htn state established | wc -l) established TCP sockets (both ends) before the capture"
	cap_start "$f" tcp
	cap_stop 5 # capture ~5 s of the middle of the sessions; they keep running past the end
}

# s_ws_midstream NAME [--deflate]: the capture starts ~2 s after the WebSocket connection is
# open, inside a 100000-byte frame (see ws-midstream.js for the handshake through $T/sig)
s_ws_midstream() {
	local name=$1 f=$OUT/$1.pcap sig=$T/sig
	shift
	mkdir -p "$sig"
	# small receive buffers in this namespace: a reader that pauses stalls its sender quickly
	sysctl -qw net.ipv4.tcp_rmem='4096 32768 65536'
	node "$HERE/ws-midstream.js" --host 127.0.0.1 --port 49100 --sigdir "$sig" "$@" \
		--manifest "$OUT/$name.messages.tsv" --captured-from "$OUT/$name.captured-from.txt" &
	local gpid=$!
	PIDS+=($gpid)
	local i
	for i in $(seq 400); do [ -e "$sig/ready" ] && break; sleep 0.05; done
	[ -e "$sig/ready" ] || die "ws-midstream did not get ready"
	cap_start "$f" 'tcp port 49100'
	date -u +%Y-%m-%dT%H:%M:%S.%NZ >"$sig/go.tmp"
	mv "$sig/go.tmp" "$sig/go"
	wait $gpid || die "ws-midstream failed"
	cap_stop
	chmod 644 "$OUT/$name.messages.tsv" "$OUT/$name.captured-from.txt"
	log "$name: $(grep -E '^(messages|first_full_index|in_flight_indices)=' "$OUT/$name.captured-from.txt" | tr '\n' ' ')"
}

# ---------------------------------------------------------------- namespace entry point

if [ "${1:-}" = __ns ]; then
	name=$2 mtu=$3 T=$4
	trap 'rc=$?; cleanup; [ $rc = 0 ] || rm -f "${CAP_FILE:-/nonexistent}"' EXIT # no partial capture
	ip link set lo up
	if [ "$mtu" != 65536 ]; then
		ip link set lo mtu "$mtu"
		ip link set dev lo gso_max_size "$mtu"
		ethtool -K lo tso off gso off gro off >/dev/null 2>&1 || true
	fi
	mount -t tmpfs -o mode=755 tmpfs /run
	case $name in
	nonws__http-keepalive) s_http_keepalive ;;
	nonws__tls) s_tls ;;
	nonws__ssh) s_ssh ;;
	nonws__redis) s_redis ;;
	nonws__postgres) s_postgres ;;
	nonws__mixed-midstream) s_mixed_midstream ;;
	gen__ws-midstream) s_ws_midstream "$name" ;;
	gen__ws-midstream-deflate) s_ws_midstream "$name" --deflate ;;
	*) die "unknown scenario $name" ;;
	esac
	exit 0
fi

# ---------------------------------------------------------------- main

[ "$(id -u)" = 0 ] || die "run as root (tcpdump, unshare and the servers need it)"
only=${1:-}
want() { [ -z "$only" ] || [[ $1 == *"$only"* ]]; }
todo=()
for s in "${SCENARIOS[@]}"; do want "$s" && todo+=("$s"); done
[ ${#todo[@]} -gt 0 ] || exit 0

for t in tcpdump tshark capinfos unshare ip ss python3 node curl openssl nginx redis-server redis-cli \
	redis-benchmark ssh scp ssh-keygen /usr/sbin/sshd psql pgbench "$PGBIN/initdb" runuser; do
	command -v "$t" >/dev/null || die "missing $t (apt-get install nginx-light openssh-server redis-server redis-tools postgresql-15 curl)"
done
[ -d "$GEN/node_modules/ws" ] || die "run npm ci in $GEN first"

for s in "${todo[@]}"; do
	T=$(mktemp -d /tmp/nonws-record.XXXXXX)
	chmod 755 "$T"
	python3 "$HERE/mkdata.py" "$T"
	mtu=65536
	case $s in
	nonws__mixed-midstream | gen__ws-midstream) mtu=1500 ;; # Ethernet-sized segments
	esac
	log "$s (lo mtu $mtu)"
	rc=0
	unshare --net --mount --propagation private bash "$SELF" __ns "$s" "$mtu" "$T" || rc=$?
	rm -rf "$T"
	[ $rc = 0 ] || die "$s failed ($rc)"
done

# Summary: connections and bytes as tshark sees them; no WebSocket expected in nonws__*
for s in "${todo[@]}"; do
	f=$OUT/$s.pcap
	conv=$(tshark -r "$f" -q -z conv,tcp 2>/dev/null | grep -c '<->' || true)
	syn=$(tshark -r "$f" -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0' 2>/dev/null | wc -l)
	ws=$(tshark -o tcp.reassemble_out_of_order:TRUE -r "$f" -Y websocket 2>/dev/null | wc -l)
	log "$(basename "$f"): $(stat -c %s "$f") bytes, $(capinfos -c -M -T "$f" | awk -F'\t' 'NR==2{print $2}') packets," \
		"$conv TCP connections, $syn SYNs, $ws packets tshark calls websocket"
done
