#!/usr/bin/env bash
# A one-node Slurm for the test suite, run as root on a fresh Debian machine:
#   start-slurm.sh start DIR   writes DIR/{slurm.conf,gres.conf,slurmdbd.conf,cgroup.conf}, starts
#                              munged, a private MariaDB, slurmdbd, slurmctld and slurmd (each only
#                              when not running already), waits until the node is idle
#   start-slurm.sh stop DIR    stops only what `start` started (recorded in DIR/started)
# Fake GPUs: one full-GPU type (h100, /dev/tty10) and two MIG-profile GRES (1g.10gb,
# /dev/tty11 and /dev/tty12): Slurm hands them out and sets CUDA_VISIBLE_DEVICES like real ones.
set -euo pipefail
ACTION=${1:?usage: start-slurm.sh start|stop DIR}
DIR=${2:?usage: start-slurm.sh start|stop DIR}
CLUSTER=ds01test
# Ports away from Slurm's defaults, so a Slurm already on the machine is left alone.
CTLD_PORT=${DS01_SLURM_PORT_BASE:-16817}
SLURMD_PORT=$((CTLD_PORT + 1))
DBD_PORT=$((CTLD_PORT + 2))
DB_PORT=$((CTLD_PORT + 3))
NODE=$(hostname -s)

log() { echo "start-slurm: $*" >&2; }

started() { echo "$1 $2" >> "$DIR/started"; }   # name pid

wait_for() {  # seconds description command...
  local seconds=$1 what=$2; shift 2
  for _ in $(seq 1 $((seconds * 5))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  log "$what did not come up; logs in $DIR"; return 1
}

stop_all() {
  [ -f "$DIR/started" ] || return 0
  # Slurm's daemons first, then what they use; each group stopped together (seconds, not tens).
  local group pids pid
  for group in "slurmd slurmctld" "slurmdbd" "mariadbd munged"; do
    pids=$(awk -v names=" $group " 'index(names, " " $1 " ") {print $2}' "$DIR/started")
    for pid in $pids; do kill "$pid" 2>/dev/null || true; done
    for _ in $(seq 1 100); do
      alive=""; for pid in $pids; do kill -0 "$pid" 2>/dev/null && alive=1; done
      [ -z "$alive" ] && break; sleep 0.1
    done
    for pid in $pids; do kill -9 "$pid" 2>/dev/null || true; done
  done
  rm -f "$DIR/started"
}

if [ "$ACTION" = stop ]; then stop_all; exit 0; fi
[ "$ACTION" = start ] || { echo "usage: start-slurm.sh start|stop DIR" >&2; exit 2; }

mkdir -p "$DIR"/{ctld,spool,db,log}
chmod 755 "$DIR"
stop_all   # whatever an earlier, interrupted start left running

# --- munge: shared by every Slurm on the host; start it only when its socket is dead ---
if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
  [ -s /etc/munge/munge.key ] || { dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; }
  chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key
  runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/ds01-test-munged.pid
  wait_for 10 munged sh -c 'munge -n </dev/null | unmunge'
  started munged "$(cat /run/munge/ds01-test-munged.pid)"
fi

# --- MariaDB: a private instance in DIR on 127.0.0.1:$DB_PORT ---
if [ ! -d "$DIR/db/mysql" ]; then
  chown mysql:mysql "$DIR/db"
  mariadb-install-db --user=mysql --datadir="$DIR/db" --auth-root-authentication-method=socket \
    --skip-test-db >"$DIR/log/mariadb-install.log" 2>&1
fi
setsid /usr/sbin/mariadbd --user=mysql --datadir="$DIR/db" --socket="$DIR/db/mysql.sock" \
  --port=$DB_PORT --bind-address=127.0.0.1 --pid-file="$DIR/db/mysql.pid" --skip-log-bin \
  --innodb-buffer-pool-size=64M --log-error="$DIR/db/mariadb.log" </dev/null >/dev/null 2>&1 &
started mariadbd $!
wait_for 60 MariaDB mariadb --socket="$DIR/db/mysql.sock" -e 'select 1'
mariadb --socket="$DIR/db/mysql.sock" -e "CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'ds01test';
  GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1'; FLUSH PRIVILEGES;"

# --- the Slurm configuration ---
memory_mb=$(awk '/MemTotal/ {print int($2 / 1024)}' /proc/meminfo)
cpus=$(nproc)
cat > "$DIR/slurmdbd.conf" <<CONF
AuthType=auth/munge
DbdHost=localhost
DbdPort=$DBD_PORT
SlurmUser=root
LogFile=$DIR/log/slurmdbd.log
PidFile=$DIR/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=ds01test
StorageLoc=slurm_acct_db
CONF
chmod 600 "$DIR/slurmdbd.conf"

cat > "$DIR/slurm.conf" <<CONF
ClusterName=$CLUSTER
SlurmctldHost=$NODE(127.0.0.1)   # by address: the test machine's name need not resolve
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$DIR/ctld
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
PriorityType=priority/multifactor
PriorityWeightQOS=1000
GresTypes=gpu
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=$DBD_PORT
AccountingStorageEnforce=associations,limits,qos
AccountingStorageTRES=gres/gpu,gres/gpu:h100,gres/gpu:1g.10gb
InactiveLimit=0
KillWait=5
MinJobAge=30
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$((memory_mb - 1024)) Gres=gpu:h100:1,gpu:1g.10gb:2 State=UNKNOWN
PartitionName=ds01 Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
CONF
cat > "$DIR/gres.conf" <<CONF
NodeName=$NODE Name=gpu Type=h100 File=/dev/tty10
NodeName=$NODE Name=gpu Type=1g.10gb File=/dev/tty11
NodeName=$NODE Name=gpu Type=1g.10gb File=/dev/tty12
CONF
chmod 644 "$DIR/slurm.conf" "$DIR/gres.conf"
export SLURM_CONF="$DIR/slurm.conf"

/usr/sbin/slurmdbd   # reads slurmdbd.conf next to $SLURM_CONF
wait_for 60 slurmdbd test -s "$DIR/slurmdbd.pid"
started slurmdbd "$(cat "$DIR/slurmdbd.pid")"
wait_for 60 slurmdbd sacctmgr -i show cluster
sacctmgr -i add cluster $CLUSTER >/dev/null 2>&1 || true

/usr/sbin/slurmctld -f "$DIR/slurm.conf"
wait_for 30 slurmctld test -s "$DIR/slurmctld.pid"
started slurmctld "$(cat "$DIR/slurmctld.pid")"
/usr/sbin/slurmd -f "$DIR/slurm.conf"
wait_for 30 slurmd test -s "$DIR/slurmd.pid"
started slurmd "$(cat "$DIR/slurmd.pid")"
wait_for 60 "node $NODE" sh -c "sinfo -h -N -n $NODE -o %t | grep -qx idle"
log "Slurm is up: SLURM_CONF=$DIR/slurm.conf"
