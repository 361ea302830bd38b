#!/bin/sh
# with_dev_log.sh SOCKET COMMAND [ARG...]
#
# Run COMMAND in a private mount namespace in which /dev/log is SOCKET (an
# AF_UNIX datagram socket a test listens on), so that syslog(3) of COMMAND
# goes to the test and nowhere else.  /dev there is a small tmpfs with the
# usual device nodes bind-mounted from the real /dev (which need not have a
# /dev/log at all); nothing outside the namespace changes.  Needs root and
# unshare(1) (util-linux).
set -eu
[ $# -ge 2 ] || { echo "usage: $0 SOCKET COMMAND [ARG...]" >&2; exit 2; }
exec unshare --mount --propagation private -- sh -eu -c '
sock=$1; shift
old=$(mktemp -d)
mount --rbind /dev "$old"
mount -t tmpfs -o mode=0755,size=1m idt-dev /dev
for f in null zero full random urandom tty; do
    [ -e "$old/$f" ] || continue
    touch "/dev/$f"
    mount --bind "$old/$f" "/dev/$f"
done
for d in pts shm mqueue; do
    [ -d "$old/$d" ] || continue
    mkdir "/dev/$d"
    mount --rbind "$old/$d" "/dev/$d"
done
ln -s /proc/self/fd /dev/fd
ln -s fd/0 /dev/stdin
ln -s fd/1 /dev/stdout
ln -s fd/2 /dev/stderr
touch /dev/log
mount --bind "$sock" /dev/log
umount -l "$old"
rmdir "$old"
exec "$@"' with_dev_log "$@"
