#!/usr/bin/env bash
# Fetch (with Maven, cached between runs) and run a single-node Apache Kafka
# (KRaft) and Elasticsearch on 127.0.0.1 for ucsiem's integration tests.
#
#   bash scripts/services.sh start  [kafka] [es]   fetch if needed, start, wait until ready
#   bash scripts/services.sh stop   [kafka] [es]   SIGTERM, wait, then SIGKILL
#   bash scripts/services.sh status [kafka] [es]   exit 0 when all named services run, else 3
#   bash scripts/services.sh fetch  [kafka] [es]   only fill the cache
#
# Environment (default):
#   UCSIEM_SERVICES_DIR       cache: Maven repository, Kafka jars, unpacked Elasticsearch
#                             (~/.cache/ucsiem-services; /var/cache/ucsiem-services as root,
#                             so that the Elasticsearch user can read it)
#   UCSIEM_SERVICES_RUN_DIR   pid files, logs and data ($UCSIEM_SERVICES_DIR/run)
#   UCSIEM_SERVICES_TIMEOUT   seconds each service may take to become ready (120)
#   UCSIEM_KAFKA_VERSION (4.4.0)   UCSIEM_KAFKA_PORT (19092)   UCSIEM_KAFKA_CONTROLLER_PORT (19093)
#   UCSIEM_KAFKA_HEAP (512m)       UCSIEM_KAFKA_JAVA_HOME (first JDK >= 17 found)
#   UCSIEM_ES_VERSION (8.19.21)    UCSIEM_ES_PORT (19200)      UCSIEM_ES_TRANSPORT_PORT (19300)
#   UCSIEM_ES_HEAP (512m)          UCSIEM_ES_JAVA_HOME (first JDK >= 17 for 8.x, >= 21 for 9.x)
#   UCSIEM_ES_USER (ucsiem-es: created when run as root, as Elasticsearch refuses root)
#
# Elasticsearch comes from Maven Central's integ-test-zip, the only distribution
# published there; its newest version is 8.19.21 (there is no 9.x) and it holds
# only the modules transport-netty4, x-pack-core, x-pack-security and apm: no
# "GET /", no match_only_text (mapper-extras), no data stream management API, no
# ingest processors, painless or reindex. Clients of the 9.x line must send
# "compatible-with=8" headers to talk to it.
set -euo pipefail
umask 022

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TEMPLATES=$ROOT/scripts/services

if [ "$(id -u)" = 0 ]; then
    default_cache=/var/cache/ucsiem-services
else
    default_cache=${XDG_CACHE_HOME:-$HOME/.cache}/ucsiem-services
fi
CACHE=${UCSIEM_SERVICES_DIR:-$default_cache}
RUN=${UCSIEM_SERVICES_RUN_DIR:-$CACHE/run}
TIMEOUT=${UCSIEM_SERVICES_TIMEOUT:-120}
STOP_WAIT=30                                        # seconds between SIGTERM and SIGKILL
DEP_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1

KAFKA_VERSION=${UCSIEM_KAFKA_VERSION:-4.4.0}
KAFKA_SCALA=2.13
KAFKA_LOG4J_VERSION=${UCSIEM_KAFKA_LOG4J_VERSION:-2.25.5}   # the log4j-core that Kafka 4.4.0 brings
KAFKA_PORT=${UCSIEM_KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${UCSIEM_KAFKA_CONTROLLER_PORT:-19093}
KAFKA_HEAP=${UCSIEM_KAFKA_HEAP:-512m}
KAFKA_CLUSTER_ID=dWNzaWVtLXRlc3QtY2x1cw                # base64url("ucsiem-test-clus"), fixed
KAFKA_HOME=$CACHE/kafka-$KAFKA_VERSION
KAFKA_RUN=$RUN/kafka
KAFKA_PID=$KAFKA_RUN/kafka.pid
KAFKA_LOG=$KAFKA_RUN/kafka.log
KAFKA_MARKER=kafka.Kafka                             # in the command line of our broker

ES_VERSION=${UCSIEM_ES_VERSION:-8.19.21}
ES_PORT=${UCSIEM_ES_PORT:-19200}
ES_TRANSPORT_PORT=${UCSIEM_ES_TRANSPORT_PORT:-19300}
ES_HEAP=${UCSIEM_ES_HEAP:-512m}
ES_USER=${UCSIEM_ES_USER:-ucsiem-es}
ES_CLUSTER=ucsiem-test
ES_HOME=$CACHE/elasticsearch-$ES_VERSION
ES_RUN=$RUN/elasticsearch
ES_PID=$ES_RUN/es.pid
ES_LOG=$ES_RUN/logs/$ES_CLUSTER.log
ES_LAUNCHER_LOG=$ES_RUN/logs/launcher.log
ES_MARKER=org.elasticsearch.bootstrap.Elasticsearch  # in the command line of the ES server JVM

log() { printf '[services] %s\n' "$*"; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- helpers

mvn_run() {
    command -v mvn >/dev/null || die "mvn (Maven) is needed to fetch the services"
    mkdir -p "$CACHE"
    # (Maven 3.8 prints bare colour codes even with -B -q: strip them.)
    (cd "$CACHE" && mvn -B -q -Dstyle.color=never -Dmaven.repo.local="$CACHE/m2" "$@" 2>&1) |
        sed -e 's/\x1b\[[0-9;]*m//g' -e '/^[[:space:]]*$/d'

}

jdk_major() { sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release" 2>/dev/null | head -n 1; }

# find_jdk MIN [OVERRIDE]: print the home of a JDK whose major version is >= MIN:
# OVERRIDE if given, else JAVA_HOME, the java on PATH, then /usr/lib/jvm/*.
find_jdk() {
    local min=$1 override=${2:-} cand java major
    local -a candidates=()
    if [ -n "$override" ]; then
        candidates=("$override")
    else
        [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
        if java=$(command -v java); then
            candidates+=("$(dirname "$(dirname "$(readlink -f "$java")")")")
        fi
        for cand in /usr/lib/jvm/*; do candidates+=("$cand"); done
    fi
    for cand in "${candidates[@]}"; do
        major=$(jdk_major "$cand")
        if [ -x "$cand/bin/java" ] && [ "${major:-0}" -ge "$min" ]; then
            echo "$cand"
            return 0
        fi
    done
    die "no JDK >= $min among: ${candidates[*]:-none}"
}

alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $s != Z* ]]; }

# pid_of PIDFILE MARKER: print the pid if that process runs and is ours.
pid_of() {
    local pid
    [ -s "$1" ] || return 1
    pid=$(cat "$1" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2" || return 1
    echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# stop_pid NAME PID: SIGTERM, wait up to STOP_WAIT seconds, then SIGKILL.
stop_pid() {
    local name=$1 pid=$2 i
    log "stopping $name (pid $pid): SIGTERM"
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < STOP_WAIT * 2; i++)); do
        alive "$pid" || { log "$name stopped"; return 0; }
        sleep 0.5
    done
    log "$name still running after ${STOP_WAIT}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 20; i++)); do alive "$pid" || return 0; sleep 0.5; done
    die "$name (pid $pid) survived SIGKILL"
}

# stop_service NAME PIDFILE MARKER: stop it if its pid file names a live process of ours; drop the pid file.
stop_service() {
    local name=$1 pidfile=$2 marker=$3 pid
    if pid=$(pid_of "$pidfile" "$marker"); then
        stop_pid "$name" "$pid"
    else
        log "$name is not running"
    fi
    rm -f "$pidfile"
}

# show_log FILE...: the last 40 lines of each file that exists.
show_log() {
    local f
    for f in "$@"; do
        [ -s "$f" ] || continue
        printf '[services] ---- last 40 lines of %s\n' "$f" >&2
        tail -n 40 "$f" >&2
    done
}

rotate() { [ -f "$1" ] && mv -f "$1" "$1.1"; return 0; }

require_free_ports() {  # NAME HINT PORT...
    local name=$1 hint=$2 p
    shift 2
    for p in "$@"; do
        port_open "$p" && die "$name: 127.0.0.1:$p is already in use by another process (set $hint)"
    done
    return 0
}

# ---------------------------------------------------------------- Kafka

kafka_fetch() {
    [ -d "$KAFKA_HOME/lib" ] && return 0
    local t0=$SECONDS work=$CACHE/.fetch-kafka
    log "fetching Apache Kafka $KAFKA_VERSION (org.apache.kafka:kafka_$KAFKA_SCALA and its runtime dependencies) with Maven"
    rm -rf "$work"
    mkdir -p "$work"
    cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>ucsiem.services</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_$KAFKA_SCALA</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <!-- Kafka logs through SLF4J 1.x: bind it to the log4j-core Kafka brings. -->
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>$KAFKA_LOG4J_VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF
    mvn_run -f "$work/pom.xml" "$DEP_PLUGIN:copy-dependencies" \
        -DincludeScope=runtime -DoutputDirectory="$work/lib" ||
        die "Maven could not fetch org.apache.kafka:kafka_$KAFKA_SCALA:$KAFKA_VERSION and its dependencies"
    mkdir -p "$KAFKA_HOME"
    cp "$work/pom.xml" "$KAFKA_HOME/pom.xml"
    mv "$work/lib" "$KAFKA_HOME/lib"
    rm -rf "$work"
    log "Kafka $KAFKA_VERSION fetched in $((SECONDS - t0)) s: $(find "$KAFKA_HOME/lib" -name '*.jar' | wc -l) jars in $KAFKA_HOME/lib"
}

kafka_java() {
    [ -n "${KAFKA_JAVA:-}" ] || KAFKA_JAVA=$(find_jdk 17 "${UCSIEM_KAFKA_JAVA_HOME:-}")
}

# The readiness probe (scripts/services/KafkaReady.java), compiled once into the cache.
kafka_probe_build() {
    local src=$TEMPLATES/KafkaReady.java out=$KAFKA_HOME/probe
    if [ ! -f "$out/KafkaReady.class" ] || [ "$src" -nt "$out/KafkaReady.class" ]; then
        [ -x "$KAFKA_JAVA/bin/javac" ] || die "$KAFKA_JAVA has no javac (a JDK is needed for the readiness probe)"
        log "compiling the Kafka readiness probe into $out"
        mkdir -p "$out"
        "$KAFKA_JAVA/bin/javac" -nowarn -d "$out" -cp "$KAFKA_HOME/lib/*" "$src"
    fi
}

kafka_configure() {
    mkdir -p "$KAFKA_RUN/data"
    sed -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" \
        -e "s|@KAFKA_CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
        -e "s|@KAFKA_DATA_DIR@|$KAFKA_RUN/data|g" \
        "$TEMPLATES/kafka-server.properties" >"$KAFKA_RUN/server.properties"
    cp "$TEMPLATES/kafka-log4j2.properties" "$KAFKA_RUN/log4j2.properties"
}

kafka_launch() {
    local pid
    if pid=$(pid_of "$KAFKA_PID" "$KAFKA_MARKER"); then
        log "kafka is already running (pid $pid, 127.0.0.1:$KAFKA_PORT)"
        return 0
    fi
    rm -f "$KAFKA_PID"
    require_free_ports kafka "UCSIEM_KAFKA_PORT / UCSIEM_KAFKA_CONTROLLER_PORT" "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"
    kafka_fetch
    kafka_java
    kafka_probe_build
    kafka_configure
    rotate "$KAFKA_LOG"
    local -a jvm=(-Xms"$KAFKA_HEAP" -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20
        -Djava.awt.headless=true -Dlog4j2.configurationFile="$KAFKA_RUN/log4j2.properties")
    if [ ! -f "$KAFKA_RUN/data/meta.properties" ]; then
        log "formatting Kafka storage in $KAFKA_RUN/data (cluster id $KAFKA_CLUSTER_ID)"
        if ! "$KAFKA_JAVA/bin/java" -Xmx256m -Dlog4j2.configurationFile="$KAFKA_RUN/log4j2.properties" \
            -cp "$KAFKA_HOME/lib/*" kafka.tools.StorageTool format --ignore-formatted \
            --config "$KAFKA_RUN/server.properties" --cluster-id "$KAFKA_CLUSTER_ID" >>"$KAFKA_LOG" 2>&1; then
            show_log "$KAFKA_LOG"
            die "kafka: formatting the storage failed"
        fi
    fi
    log "starting Kafka $KAFKA_VERSION (KRaft broker+controller) on 127.0.0.1:$KAFKA_PORT," \
        "controller :$KAFKA_CONTROLLER_PORT, java $KAFKA_JAVA, heap $KAFKA_HEAP, log $KAFKA_LOG"
    nohup setsid "$KAFKA_JAVA/bin/java" "${jvm[@]}" -cp "$KAFKA_HOME/lib/*" \
        kafka.Kafka "$KAFKA_RUN/server.properties" >>"$KAFKA_LOG" 2>&1 </dev/null &
    echo $! >"$KAFKA_PID"
}

kafka_fail() {
    local pid
    printf '[services] ERROR: kafka: %s\n' "$1" >&2
    show_log "$KAFKA_LOG"
    if pid=$(pid_of "$KAFKA_PID" "$KAFKA_MARKER"); then stop_pid kafka "$pid"; fi
    rm -f "$KAFKA_PID"
    exit 1
}

# Ready = the broker answers a metadata request (describeCluster + listTopics).
kafka_wait_ready() {
    local deadline=$((SECONDS + TIMEOUT)) t0=$SECONDS left out="" slice
    kafka_java
    kafka_probe_build
    log "waiting for Kafka on 127.0.0.1:$KAFKA_PORT (up to ${TIMEOUT}s)"
    while :; do
        pid_of "$KAFKA_PID" "$KAFKA_MARKER" >/dev/null || kafka_fail "the broker exited during startup"
        left=$((deadline - SECONDS))
        ((left > 0)) || kafka_fail "not ready within ${TIMEOUT}s${out:+ ($out)}"
        if port_open "$KAFKA_PORT"; then
            slice=$((left < 15 ? left : 15))
            if out=$("$KAFKA_JAVA/bin/java" -Xmx128m -XX:TieredStopAtLevel=1 -Dlog4j2.level=ERROR \
                -cp "$KAFKA_HOME/probe:$KAFKA_HOME/lib/*" KafkaReady "127.0.0.1:$KAFKA_PORT" "$slice" 2>&1); then
                log "${out##*$'\n'} (after $((SECONDS - t0)) s)"
                return 0
            fi
            out=${out##*$'\n'}
        fi
        sleep 1
    done
}

kafka_stop() { stop_service kafka "$KAFKA_PID" "$KAFKA_MARKER"; }

kafka_status() {
    local pid
    if pid=$(pid_of "$KAFKA_PID" "$KAFKA_MARKER"); then
        printf '%-14s running  pid %-8s 127.0.0.1:%s (controller :%s)%s\n' kafka "$pid" \
            "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$(port_open "$KAFKA_PORT" || echo ', port not open yet')"
    else
        printf '%-14s stopped\n' kafka
        return 3
    fi
}

# ---------------------------------------------------------------- Elasticsearch

es_fetch() {
    [ -x "$ES_HOME/bin/elasticsearch" ] && return 0
    local t0=$SECONDS work=$CACHE/.unpack-es
    local zip=$CACHE/m2/org/elasticsearch/distribution/integ-test-zip/elasticsearch/$ES_VERSION/elasticsearch-$ES_VERSION.zip
    log "fetching Elasticsearch $ES_VERSION (org.elasticsearch.distribution.integ-test-zip:elasticsearch:zip) with Maven"
    mvn_run "$DEP_PLUGIN:get" -Dtransitive=false \
        -Dartifact="org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip" ||
        die "Maven could not fetch the Elasticsearch $ES_VERSION integ-test-zip"
    [ -f "$zip" ] || die "Maven did not leave $zip"
    rm -rf "$work"
    unzip -q "$zip" -d "$work"
    mv "$work/elasticsearch-$ES_VERSION" "$ES_HOME"
    rm -rf "$work"
    chmod -R a+rX "$ES_HOME"
    log "Elasticsearch $ES_VERSION fetched in $((SECONDS - t0)) s into $ES_HOME" \
        "(modules: $(cd "$ES_HOME/modules" && echo *))"
}

es_java() {
    local min=17
    [ "${ES_VERSION%%.*}" -ge 9 ] && min=21
    [ -n "${ES_JAVA:-}" ] || ES_JAVA=$(find_jdk "$min" "${UCSIEM_ES_JAVA_HOME:-}")
}

# Elasticsearch refuses to run as root: as root, run it as a dedicated system user.
ES_AS=()
es_user() {
    [ "$(id -u)" = 0 ] || return 0
    if ! id -u "$ES_USER" >/dev/null 2>&1; then
        log "creating system user $ES_USER (Elasticsearch refuses to run as root)"
        useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin "$ES_USER"
    fi
    ES_AS=(setpriv --reuid="$ES_USER" --regid="$ES_USER" --init-groups)
    chown -R "$ES_USER:$ES_USER" "$ES_RUN"
    "${ES_AS[@]}" test -r "$ES_HOME/lib/elasticsearch-$ES_VERSION.jar" ||
        die "user $ES_USER cannot read $ES_HOME: set UCSIEM_SERVICES_DIR to a folder every user can enter"
}

es_launch() {
    local pid
    if pid=$(pid_of "$ES_PID" "$ES_MARKER"); then
        log "elasticsearch is already running (pid $pid, 127.0.0.1:$ES_PORT)"
        return 0
    fi
    rm -f "$ES_PID"
    require_free_ports elasticsearch "UCSIEM_ES_PORT / UCSIEM_ES_TRANSPORT_PORT" "$ES_PORT" "$ES_TRANSPORT_PORT"
    es_fetch
    es_java
    # A test node starts empty: the indices every run creates (a namespace per test) would otherwise pile up
    # across runs until the node's shard limit (1,000) refuses new ones with 400 validation_exception.
    rm -rf "$ES_RUN/data"
    mkdir -p "$ES_RUN/data" "$ES_RUN/logs" "$ES_RUN/tmp"
    [ -d "$ES_RUN/config" ] || cp -R "$ES_HOME/config" "$ES_RUN/config"
    rotate "$ES_LAUNCHER_LOG"
    rotate "$ES_LOG"
    es_user
    local -a settings=(
        -E cluster.name="$ES_CLUSTER" -E node.name=ucsiem-es
        -E network.host=127.0.0.1 -E http.port="$ES_PORT" -E transport.port="$ES_TRANSPORT_PORT"
        -E discovery.type=single-node
        -E path.data="$ES_RUN/data" -E path.logs="$ES_RUN/logs"
        -E cluster.routing.allocation.disk.threshold_enabled=false
        -E action.destructive_requires_name=false
    )
    # The setting exists only where the security module is bundled.
    [ -d "$ES_HOME/modules/x-pack-security" ] && settings+=(-E xpack.security.enabled=false)
    log "starting Elasticsearch $ES_VERSION on 127.0.0.1:$ES_PORT (transport :$ES_TRANSPORT_PORT)," \
        "java $ES_JAVA, heap $ES_HEAP, user $(if ((${#ES_AS[@]})); then echo "$ES_USER"; else id -un; fi), log $ES_LOG"
    # -d: the launcher returns once the node has started (or failed); the server writes its pid.
    # cd: the JVM writes gc.log and any heap dump into its working directory.
    local rc=0
    (cd "$ES_RUN/logs" && timeout "$TIMEOUT" "${ES_AS[@]}" env -i \
        PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 HOME="$ES_RUN" \
        ES_JAVA_HOME="$ES_JAVA" ES_PATH_CONF="$ES_RUN/config" ES_TMPDIR="$ES_RUN/tmp" \
        ES_JAVA_OPTS="-Xms$ES_HEAP -Xmx$ES_HEAP" \
        setsid "$ES_HOME/bin/elasticsearch" -d -p "$ES_PID" "${settings[@]}") \
        >"$ES_LAUNCHER_LOG" 2>&1 </dev/null || rc=$?
    case $rc in
    0) ;;
    124) es_fail "the node did not start within ${TIMEOUT}s" ;;
    *) es_fail "the launcher failed with exit code $rc" ;;
    esac
}

es_fail() {
    local pid
    printf '[services] ERROR: elasticsearch: %s\n' "$1" >&2
    if [ -s "$ES_LOG" ]; then
        show_log "$ES_LOG"
        # The launcher's console repeats the node's log; show only what it added (errors).
        if grep -v '^\[[0-9]' "$ES_LAUNCHER_LOG" >"$ES_LAUNCHER_LOG.errors" 2>/dev/null; then
            show_log "$ES_LAUNCHER_LOG.errors"
        fi
        rm -f "$ES_LAUNCHER_LOG.errors"
    else
        show_log "$ES_LAUNCHER_LOG"
    fi
    if pid=$(pid_of "$ES_PID" "$ES_MARKER"); then stop_pid elasticsearch "$pid"; fi
    rm -f "$ES_PID"
    exit 1
}

# Ready = cluster health reaches yellow or green.
es_wait_ready() {
    local deadline=$((SECONDS + TIMEOUT)) t0=$SECONDS left out=""
    log "waiting for Elasticsearch on 127.0.0.1:$ES_PORT (up to ${TIMEOUT}s)"
    while :; do
        pid_of "$ES_PID" "$ES_MARKER" >/dev/null || es_fail "the node is not running"
        left=$((deadline - SECONDS))
        ((left > 0)) || es_fail "not ready within ${TIMEOUT}s${out:+ (last answer: $out)}"
        if out=$(curl -sS --max-time 15 \
            "http://127.0.0.1:$ES_PORT/_cluster/health?wait_for_status=yellow&timeout=10s" 2>&1) &&
            [[ $out =~ \"status\":\"(green|yellow)\" ]]; then
            log "elasticsearch ready: cluster $ES_CLUSTER is ${BASH_REMATCH[1]} (after $((SECONDS - t0)) s)"
            return 0
        fi
        sleep 1
    done
}

es_stop() { stop_service elasticsearch "$ES_PID" "$ES_MARKER"; }

es_status() {
    local pid
    if pid=$(pid_of "$ES_PID" "$ES_MARKER"); then
        printf '%-14s running  pid %-8s 127.0.0.1:%s (transport :%s)%s\n' elasticsearch "$pid" \
            "$ES_PORT" "$ES_TRANSPORT_PORT" "$(port_open "$ES_PORT" || echo ', port not open yet')"
    else
        printf '%-14s stopped\n' elasticsearch
        return 3
    fi
}

# ---------------------------------------------------------------- main

usage() { sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2; }

[ $# -ge 1 ] || usage
cmd=$1
shift
[ $# -gt 0 ] || set -- kafka es
services=()
for s in "$@"; do
    case $s in
    kafka) services+=(kafka) ;;
    es | elasticsearch) services+=(es) ;;
    *) die "unknown service '$s' (kafka, es)" ;;
    esac
done

case $cmd in
fetch)
    for s in "${services[@]}"; do "${s}_fetch"; done
    ;;
start)
    t0=$SECONDS
    for s in "${services[@]}"; do "${s}_fetch"; done
    # Launch all, then wait for each: Kafka boots while the ES launcher runs.
    for s in "${services[@]}"; do "${s}_launch"; done
    for s in "${services[@]}"; do "${s}_wait_ready"; done
    log "ready in $((SECONDS - t0)) s; run dir $RUN"
    ;;
stop)
    for s in "${services[@]}"; do "${s}_stop"; done
    ;;
status)
    rc=0
    for s in "${services[@]}"; do "${s}_status" || rc=3; done
    exit "$rc"
    ;;
*) usage ;;
esac
