#!/usr/bin/env bash
# slurm_local.sh - a throw-away single-node SLURM cluster on localhost, for the tests.
#
# Debian/Ubuntu, root, no systemd needed. Installs (apt) munge, slurmctld, slurmd,
# slurm-client, slurmdbd and MariaDB when missing; writes every config and state file
# under $LSM_SLURM_DIR; starts each daemon by hand; records a PID file per daemon; stops
# them by those PID files only. Accounting goes through slurmdbd + MariaDB, because the
# snakemake slurm executor polls job states with `sacct`, as on real clusters (without
# accounting `sacct` fails and the executor would wait forever).
#
#   slurm_local.sh start     install if needed, start, wait until `srun true` works
#   slurm_local.sh stop      cancel jobs, stop every daemon this script started
#   slurm_local.sh status    daemons and sinfo
#
# Environment: LSM_SLURM_DIR (default /tmp/lsm-slurm), LSM_SLURM_PARTITION (debug),
# LSM_SLURM_ACCOUNT (lsm), LSM_SLURM_DB_PORT (3307), LSM_SLURM_WAIT (60 s per wait).
# After start: export SLURM_CONF=$LSM_SLURM_DIR/etc/slurm.conf (see $LSM_SLURM_DIR/env).
set -euo pipefail

DIR=${LSM_SLURM_DIR:-/tmp/lsm-slurm}
PARTITION=${LSM_SLURM_PARTITION:-debug}
ACCOUNT=${LSM_SLURM_ACCOUNT:-lsm}
DB_PORT=${LSM_SLURM_DB_PORT:-3307}
WAIT=${LSM_SLURM_WAIT:-60}
CLUSTER=lsmci
PIDS=$DIR/pids
LOGS=$DIR/logs
export SLURM_CONF=$DIR/etc/slurm.conf

say() { printf '[slurm_local %3ds] %s\n' "$SECONDS" "$*" >&2; }
fail() {
  say "FAILED: $*"
  for f in "$LOGS"/*.log; do
    [ -f "$f" ] && { printf -- '--- %s\n' "$f" >&2; tail -n 12 "$f" >&2; }
  done
  exit 1
}

# alive PIDFILE COMM: the PID in PIDFILE, if that process is alive and is COMM
alive() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ] && echo "$pid"
}

# until_ok WHAT CMD...: retry CMD every 0.25 s for $WAIT seconds
until_ok() {
  local what=$1 n
  shift
  for ((n = 0; n < WAIT * 4; n++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.25
  done
  fail "no $what after ${WAIT}s"
}

install_missing() {
  local want=(munge slurmctld slurmd slurm-client slurmdbd mariadb-server mariadb-client)
  local missing=() p guard=/usr/sbin/policy-rc.d ours=0
  for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || fail "apt-get not found; install ${missing[*]} by hand"
  say "installing ${missing[*]}"
  # package scripts must not try to start the services themselves (no systemd here)
  if [ ! -e $guard ]; then printf '#!/bin/sh\nexit 101\n' >$guard && chmod +x $guard && ours=1; fi
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get update -q && apt-get install -y -q --no-install-recommends "${missing[@]}"; } \
    >"$LOGS/apt.log" 2>&1; then
    [ $ours = 1 ] && rm -f $guard
    fail "apt-get install (see $LOGS/apt.log)"
  fi
  [ $ours = 1 ] && rm -f $guard
  return 0
}

write_configs() {
  local hw node mem
  mkdir -p "$DIR/etc" "$DIR/state/ctld" "$DIR/state/d" /etc/slurm
  hw=$(slurmd -C | head -n 1)  # "NodeName=host CPUs=2 ... RealMemory=24105"
  node=${hw#NodeName=}
  node=${node%% *}
  mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$hw")
  hw=${hw#NodeName=* }
  hw=${hw/RealMemory=$mem/RealMemory=$((mem * 9 / 10))}
  echo "$node" >"$DIR/node"
  cat >"$SLURM_CONF" <<EOF
# written by lsm-bench workflow/scripts/slurm_local.sh
ClusterName=$CLUSTER
SlurmctldHost=$node(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
# no cgroups: nothing to configure in a container or microVM, and nothing to enforce in CI
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
MailProg=/bin/true
MinJobAge=600
SlurmctldPidFile=$PIDS/slurmctld.pid
SlurmdPidFile=$PIDS/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
StateSaveLocation=$DIR/state/ctld
SlurmdSpoolDir=$DIR/state/d
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/linux
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
NodeName=$node NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=$PARTITION Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
  (
    umask 077
    cat >"$DIR/etc/slurmdbd.conf" <<EOF
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
PidFile=$PIDS/slurmdbd.pid
LogFile=$LOGS/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=lsm-bench
StorageLoc=lsm_slurm_acct
EOF
  )
  # slurmdbd reads /etc/slurm/slurmdbd.conf only; keep a foreign file aside
  local f
  for f in slurm.conf slurmdbd.conf; do
    if [ -e "/etc/slurm/$f" ] && [ ! -L "/etc/slurm/$f" ]; then mv "/etc/slurm/$f" "/etc/slurm/$f.lsm-backup"; fi
    ln -sfn "$DIR/etc/$f" "/etc/slurm/$f"
  done
  echo "export SLURM_CONF=$SLURM_CONF" >"$DIR/env"
}

munge_answers() { munge -n | unmunge; }

start_munge() {
  munge_answers >/dev/null 2>&1 && return 0  # a munged we did not start: leave it alone
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o munge -g munge -m 0700 /etc/munge /var/lib/munge /var/log/munge
  [ -s /etc/munge/munge.key ] || head -c 1024 /dev/urandom >/etc/munge/munge.key
  chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
  rm -f /run/munge/munged.pid
  setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged --force \
    </dev/null >>"$LOGS/munged.log" 2>&1 || fail "munged"
  until_ok "munged pid" alive /run/munge/munged.pid munged
  cp /run/munge/munged.pid "$PIDS/munged.pid"
  until_ok "munge credential" munge_answers
}

db() { mariadb --no-defaults -S "$DIR/mysql.sock" -uroot "$@"; }

start_mariadb() {
  [ -d "$DIR/mysql/mysql" ] || mariadb-install-db --no-defaults --datadir="$DIR/mysql" \
    --user=root --auth-root-authentication-method=socket --skip-test-db \
    >"$LOGS/mariadb-install.log" 2>&1 || fail "mariadb-install-db"
  setsid mariadbd --no-defaults --datadir="$DIR/mysql" --user=root --socket="$DIR/mysql.sock" \
    --pid-file="$PIDS/mariadbd.pid" --bind-address=127.0.0.1 --port="$DB_PORT" \
    --innodb-buffer-pool-size=64M --log-error="$LOGS/mariadbd.log" </dev/null >/dev/null 2>&1 &
  until_ok "MariaDB" db -e 'select 1'
  until_ok "mariadbd pid" alive "$PIDS/mariadbd.pid" mariadbd
  db -e "CREATE DATABASE IF NOT EXISTS lsm_slurm_acct;
         CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'lsm-bench';
         CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'lsm-bench';
         GRANT ALL ON lsm_slurm_acct.* TO 'slurm'@'localhost';
         GRANT ALL ON lsm_slurm_acct.* TO 'slurm'@'127.0.0.1';"
}

start_slurmdbd() {
  slurmdbd </dev/null >>"$LOGS/slurmdbd.out.log" 2>&1 || fail "slurmdbd"
  until_ok "slurmdbd pid" alive "$PIDS/slurmdbd.pid" slurmdbd
  until_ok "slurmdbd answering" sacctmgr -n list cluster
  # the cluster, an account and the user's association, so that `sacct` and `-A` work
  sacctmgr -i add cluster "$CLUSTER" >/dev/null 2>&1 || true
  sacctmgr -i add account "$ACCOUNT" cluster="$CLUSTER" >/dev/null 2>&1 || true
  sacctmgr -i add user "$(id -un)" account="$ACCOUNT" cluster="$CLUSTER" >/dev/null 2>&1 || true
  sacctmgr -n -P list account format=account | grep -qx "$ACCOUNT" || fail "account $ACCOUNT"
}

node_idle() { sinfo -h -n "$(cat "$DIR/node")" -o %t | grep -Eq '^(idle|mix|alloc)$'; }

start_slurm() {
  slurmctld -i </dev/null >>"$LOGS/slurmctld.out.log" 2>&1 || fail "slurmctld"
  until_ok "slurmctld pid" alive "$PIDS/slurmctld.pid" slurmctld
  until_ok "slurmctld answering" sinfo -h
  slurmd -N "$(cat "$DIR/node")" </dev/null >>"$LOGS/slurmd.out.log" 2>&1 || fail "slurmd"
  until_ok "slurmd pid" alive "$PIDS/slurmd.pid" slurmd
  # a node left DOWN by an earlier run comes back with `resume`
  scontrol update nodename="$(cat "$DIR/node")" state=resume >/dev/null 2>&1 || true
  until_ok "an idle node" node_idle
  timeout "$WAIT" srun -N1 -n1 -t 1 true || fail "srun smoke test"
}

everything_up() {
  alive "$PIDS/slurmctld.pid" slurmctld >/dev/null && alive "$PIDS/slurmd.pid" slurmd >/dev/null &&
    alive "$PIDS/slurmdbd.pid" slurmdbd >/dev/null && munge_answers >/dev/null 2>&1 && node_idle
}

stop() {
  local pair pid n
  if alive "$PIDS/slurmctld.pid" slurmctld >/dev/null; then
    squeue -h -o %i | xargs -r scancel 2>/dev/null || true
  fi
  # reverse start order; a PID file whose process is not ours (by name) is ignored
  for pair in slurmd:slurmd slurmctld:slurmctld slurmdbd:slurmdbd mariadbd:mariadbd munged:munged; do
    if pid=$(alive "$PIDS/${pair%%:*}.pid" "${pair#*:}"); then
      kill "$pid" 2>/dev/null || true
      for ((n = 0; n < 80; n++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
      say "stopped ${pair#*:} ($pid)"
    fi
    rm -f "$PIDS/${pair%%:*}.pid"
  done
  return 0
}

start() {
  [ "$(id -u)" = 0 ] || fail "must run as root (it installs packages and starts daemons)"
  mkdir -p "$PIDS" "$LOGS"
  install_missing
  if [ -f "$SLURM_CONF" ] && everything_up; then say "already up"; return 0; fi
  stop  # whatever is left of an earlier, partial start
  write_configs
  start_munge
  start_mariadb
  start_slurmdbd
  start_slurm
  say "ready: partition $PARTITION, account $ACCOUNT; source $DIR/env"
}

status() {
  local d
  for d in munged mariadbd slurmdbd slurmctld slurmd; do
    if pid=$(alive "$PIDS/$d.pid" "$d"); then echo "$d running ($pid)"; else echo "$d not running"; fi
  done
  sinfo || true
}

case ${1:-start} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
