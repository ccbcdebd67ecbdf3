#!/usr/bin/env bash
# A private single-node SLURM cluster on this machine, for tests/system/slurm/test_slurm.py (the array recipe of docs/grading-at-scale.md, for real).
#   bash scripts/slurm.sh install     Debian's slurm-wlm and munge, when missing (root only; otherwise it says so)
#   bash scripts/slurm.sh start DIR   munged, slurmctld and slurmd on localhost, every file of theirs under DIR
#   bash scripts/slurm.sh stop DIR    cancel its jobs, stop the daemons by the pids they wrote, wait until they are gone
# Point the clients at it with SLURM_CONF=DIR/slurm.conf (sbatch, squeue, sinfo, scontrol, scancel).
# DIR holds slurm.conf, munge/ (key, socket, pid, log, seed: the munge user's), state/, spool/, run/ (pids), log/.
set -euo pipefail
NODE=localhost
START_TIMEOUT_S=60
STOP_TIMEOUT_S=30

die() {
  echo "slurm.sh: $*" >&2
  exit 1
}

# --- install ----------------------------------------------------------------------------------------------------

missing_packages() {
  local package
  for package in slurm-wlm munge; do
    dpkg-query -W -f='${Status}\n' "$package" 2>/dev/null | grep -q '^install ok installed$' || echo "$package"
  done
}

install_packages() {
  local missing log
  missing=$(missing_packages)
  if [ -z "$missing" ]; then
    return 0
  fi
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "== $(echo $missing) missing and this is not a root Debian shell: install them to run tests/system/slurm/test_slurm.py"
    return 0
  fi
  echo "== installing Debian's $(echo $missing) for the SLURM test (tests/system/slurm/test_slurm.py)"
  log=$(mktemp)
  # shellcheck disable=SC2086  # one word per package
  if ! { apt-get -o DPkg::Lock::Timeout=600 update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq $missing; } >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    die "apt-get could not install $(echo $missing) (its output is above)"
  fi
  rm -f "$log"
  # shellcheck disable=SC2086
  quiet_system_services $missing
  slurmctld -V
}

# The packages enable their own services (munge, slurmctld, slurmd), which read /etc: the test's cluster reads DIR
# only. Where a service manager started them on install (a CI virtual machine with systemd, say), stop them; and
# disable them everywhere, so that nothing of SLURM runs but the test's cluster, and only while the test runs.
quiet_system_services() {
  local package services service
  for package in "$@"; do
    services="slurmctld slurmd"
    [ "$package" != munge ] || services=munge
    for service in $services; do
      if [ -d /run/systemd/system ]; then
        systemctl disable --now "$service" >/dev/null 2>&1 || true
      else
        "/etc/init.d/$service" stop >/dev/null 2>&1 || true
        deb-systemd-helper disable "$service.service" >/dev/null 2>&1 || true
        update-rc.d "$service" disable >/dev/null 2>&1 || true
      fi
    done
  done
}

# --- the daemons' pids ------------------------------------------------------------------------------------------

pid_file() {
  case "$2" in
    munged) echo "$1/munge/munged.pid" ;;
    *) echo "$1/run/$2.pid" ;;
  esac
}

# Whether process $1 runs program $2: a pid may have been reused, and a zombie (which this machine's init reaps
# only now and then) has exited already.
alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  [[ "$stat" == "$1 ($2) "* ]] || return 1
  [[ "$stat" != "$1 ($2) Z"* ]] || return 1
}

# The pid in DIR's pid file of daemon $2 when that daemon is alive.
live_pid() {
  local pid
  pid=$(cat "$(pid_file "$1" "$2")" 2>/dev/null) || return 1
  # explicit returns: callers test this function, and a test switches set -e off inside it
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  alive "$pid" "$2" || return 1
  echo "$pid"
}

wait_gone() {
  local pid=$1 name=$2 deadline=$((SECONDS + STOP_TIMEOUT_S))
  while alive "$pid" "$name"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "slurm.sh: $name (pid $pid) did not exit within ${STOP_TIMEOUT_S} s of SIGTERM: killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
      deadline=$((SECONDS + STOP_TIMEOUT_S))
    fi
    sleep 0.2
  done
}

# --- start ------------------------------------------------------------------------------------------------------

# Two TCP ports free right now on this machine, for slurmctld and slurmd: never the fixed 6817/6818, which another
# cluster (or a previous one still closing its sockets) may hold.
free_ports() {
  python3 - <<'EOF'
import socket
held = [socket.socket() for _ in range(2)]
for s in held:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in held))
EOF
}

node_hardware() {
  # slurmd -C: "NodeName=vm CPUs=2 Boards=1 ... RealMemory=24105"; the node gets what this machine has.
  local line
  line=$(slurmd -C | head -1)
  grep -oE '(CPUs|RealMemory)=[0-9]+' <<<"$line" | tr '\n' ' '
}

write_conf() {
  local dir=$1 ports hardware
  read -r -a ports <<<"$(free_ports)"
  [[ "${ports[1]:-}" =~ ^[0-9]+$ ]] || die "could not find two free TCP ports (python3 -c socket.bind): is python3 installed?"
  hardware=$(node_hardware)
  [[ "$hardware" == *CPUs=*RealMemory=* ]] || die "slurmd -C did not report CPUs and RealMemory: $(slurmd -C 2>&1 | head -1)"
  cat >"$dir/slurm.conf" <<EOF
# Written by scripts/slurm.sh start: a one-node cluster on localhost whose files are all in $dir.
ClusterName=realnvp-test
SlurmctldHost=$NODE
SlurmctldPort=${ports[0]}
SlurmdPort=${ports[1]}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket.2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
# No mail is sent (Debian ships no /bin/mail: slurmctld would log an error at each start).
MailProg=/bin/true
ReturnToService=2
# Ended jobs stay visible to scontrol for an hour (there is no accounting database to ask instead).
MinJobAge=3600
NodeName=$NODE NodeAddr=127.0.0.1 $hardware State=UNKNOWN
PartitionName=main Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
}

# munged refuses files that others could read or replace: its folder and key belong to the munge user.
prepare_munge() {
  local dir=$1
  rm -rf "$dir/munge"
  install -d -m 0755 -o munge -g munge "$dir/munge"
  runuser -u munge -- mungekey --create --keyfile="$dir/munge/munge.key" ||
    die "mungekey could not create $dir/munge/munge.key"
}

start_munged() {
  local dir=$1
  runuser -u munge -- munged --socket="$dir/munge/munge.socket.2" --key-file="$dir/munge/munge.key" \
    --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" \
    </dev/null >>"$dir/log/start.log" 2>&1 || fail_start "$dir" munged "$dir/munge/munged.log"
  wait_for_pid "$dir" munged "$dir/munge/munged.log"
}

start_slurm_daemon() {
  local dir=$1 name=$2
  shift 2
  "$name" -f "$dir/slurm.conf" "$@" </dev/null >>"$dir/log/start.log" 2>&1 || fail_start "$dir" "$name" "$dir/log/$name.log"
  wait_for_pid "$dir" "$name" "$dir/log/$name.log"
}

# A daemon forks before it writes its pid file: wait for the file, and for the process to be that daemon.
wait_for_pid() {
  local dir=$1 name=$2 log=$3 deadline=$((SECONDS + START_TIMEOUT_S))
  until live_pid "$dir" "$name" >/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || fail_start "$dir" "$name" "$log"
    sleep 0.1
  done
}

fail_start() {
  local dir=$1 name=$2 log=$3
  echo "slurm.sh: $name did not start; the end of $log and of $dir/log/start.log:" >&2
  tail -n 20 "$log" "$dir/log/start.log" >&2 2>/dev/null || true
  stop "$dir" >&2 || true
  exit 1
}

wait_until_idle() {
  local dir=$1 state="" deadline=$((SECONDS + START_TIMEOUT_S))
  while [ "$SECONDS" -lt "$deadline" ]; do
    state=$(SLURM_CONF="$dir/slurm.conf" sinfo --noheader --nodes="$NODE" --format=%T 2>/dev/null || true)
    [ "$state" = idle ] && return 0
    sleep 0.2
  done
  echo "slurm.sh: the node is '${state:-not listed}', not idle, ${START_TIMEOUT_S} s after start; the end of the logs:" >&2
  tail -n 20 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
  stop "$dir" >&2 || true
  exit 1
}

check_can_start() {
  local dir=$1 name
  [ "$(id -u)" = 0 ] || die "start needs root (slurmd runs jobs as their users, munged as the munge user)"
  for name in slurmctld slurmd sinfo munged mungekey; do
    command -v "$name" >/dev/null || die "$name not found: run bash scripts/slurm.sh install (Debian's slurm-wlm and munge)"
  done
  [ -d "$dir" ] || die "$dir is not a folder"
  runuser -u munge -- test -x "$dir" ||
    die "the munge user cannot reach $dir (munged runs as munge): use a folder every parent of which others may search, e.g. one made in /tmp"
  for name in slurmd slurmctld munged; do
    if pid=$(live_pid "$dir" "$name"); then
      die "$name (pid $pid) of $dir is still running: run bash scripts/slurm.sh stop $dir first"
    fi
  done
}

start() {
  local dir began_ns
  began_ns=$(date +%s%N)
  dir=$(realpath "$1")
  check_can_start "$dir"
  # A fresh cluster every time: no job, node state, socket or pid file of an earlier one in DIR.
  rm -rf "$dir/state" "$dir/spool" "$dir/run"
  install -d -m 0755 "$dir/state" "$dir/spool" "$dir/run" "$dir/log"
  write_conf "$dir"
  prepare_munge "$dir"
  start_munged "$dir"
  start_slurm_daemon "$dir" slurmctld -c -i
  start_slurm_daemon "$dir" slurmd -N "$NODE"
  wait_until_idle "$dir"
  echo "== SLURM is up in $(awk "BEGIN {printf \"%.1f\", ($(date +%s%N) - $began_ns) / 1e9}") s: node $NODE idle;" \
    "export SLURM_CONF=$dir/slurm.conf"
}

# --- stop -------------------------------------------------------------------------------------------------------

# Jobs first: their slurmstepd and job processes are children of no daemon's pid file, and would outlive the daemons.
cancel_jobs() {
  local dir=$1 deadline=$((SECONDS + STOP_TIMEOUT_S)) jobs
  live_pid "$dir" slurmctld >/dev/null || return 0
  export SLURM_CONF="$dir/slurm.conf"
  jobs=$(squeue --noheader --format=%A 2>/dev/null) || return 0
  [ -z "$jobs" ] && return 0
  # shellcheck disable=SC2086
  scancel $jobs 2>/dev/null || true
  while [ -n "$(squeue --noheader --format=%A 2>/dev/null)" ] && [ "$SECONDS" -lt "$deadline" ]; do
    sleep 0.5
  done
}

stop() {
  local dir name pid
  dir=$(realpath "$1")
  [ -d "$dir" ] || die "$dir is not a folder"
  cancel_jobs "$dir"
  for name in slurmd slurmctld munged; do  # the node, the controller, then the authentication both need
    if pid=$(live_pid "$dir" "$name"); then
      kill -TERM "$pid" 2>/dev/null || true
      wait_gone "$pid" "$name"
    fi
  done
  rm -f "$dir/munge/munge.socket.2" "$dir/munge/munge.socket.2.lock"
}

USAGE="usage: bash scripts/slurm.sh install | start DIR | stop DIR"
case "${1:-}" in
  install) install_packages ;;
  start | stop)
    [ -n "${2:-}" ] || die "$USAGE"
    "$1" "$2"
    ;;
  *) die "$USAGE" ;;
esac
