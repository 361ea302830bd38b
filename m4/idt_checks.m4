# idt_checks.m4 - dependency and hardening checks for ipsecdiagtool.
# Every missing dependency stops configure with the Debian package name.

# IDT_CHECK_PKG(VAR, MODULE, DEBIAN-PACKAGE)
AC_DEFUN([IDT_CHECK_PKG], [
  PKG_CHECK_MODULES([$1], [$2], [],
    [AC_MSG_ERROR([$2 not found: install the Debian package '$3' (apt-get install $3)])])
])

AC_DEFUN([IDT_CHECK_NETSNMP], [
  AC_ARG_VAR([NET_SNMP_CONFIG], [path to net-snmp-config])
  AC_PATH_PROG([NET_SNMP_CONFIG], [net-snmp-config], [no])
  AS_IF([test "x$NET_SNMP_CONFIG" = xno],
    [PKG_CHECK_MODULES([NETSNMP], [netsnmp-agent], [NETSNMP_VERSION=pkg-config],
      [AC_MSG_ERROR([Net-SNMP agent library not found: install the Debian package 'libsnmp-dev' (apt-get install libsnmp-dev)])])],
    [NETSNMP_CFLAGS=`$NET_SNMP_CONFIG --cflags | tr ' ' '\n' | grep -E '^-I' | tr '\n' ' '`
     NETSNMP_LIBS=`$NET_SNMP_CONFIG --netsnmp-agent-libs | sed "s/-lnetsnmpmibs //"`
     NETSNMP_VERSION=`$NET_SNMP_CONFIG --version`])
  save_CFLAGS=$CFLAGS; save_LIBS=$LIBS
  CFLAGS="$CFLAGS $NETSNMP_CFLAGS"; LIBS="$NETSNMP_LIBS $LIBS"
  AC_MSG_CHECKING([whether the Net-SNMP agent library links])
  AC_LINK_IFELSE([AC_LANG_PROGRAM([[
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>
]], [[init_agent("x"); netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 1);]])],
    [AC_MSG_RESULT([yes])],
    [AC_MSG_RESULT([no]); AC_MSG_ERROR([cannot link with the Net-SNMP agent library: install the Debian package 'libsnmp-dev' (apt-get install libsnmp-dev)])])
  CFLAGS=$save_CFLAGS; LIBS=$save_LIBS
  AC_SUBST([NETSNMP_CFLAGS])
  AC_SUBST([NETSNMP_LIBS])
  AC_SUBST([NETSNMP_VERSION])
  AC_DEFINE_UNQUOTED([IDT_NETSNMP_VERSION_BUILT], ["$NETSNMP_VERSION"], [Net-SNMP version at build time])
])

AC_DEFUN([IDT_CHECK_SYSTEMD], [
  AC_ARG_WITH([systemd], [AS_HELP_STRING([--without-systemd], [do not use libsystemd for sd_notify])],
    [], [with_systemd=check])
  have_systemd=no
  AS_IF([test "x$with_systemd" != xno],
    [PKG_CHECK_MODULES([SYSTEMD], [libsystemd], [have_systemd=yes],
       [AS_IF([test "x$with_systemd" = xyes],
          [AC_MSG_ERROR([libsystemd not found: install the Debian package 'libsystemd-dev'])])])])
  AS_IF([test "x$have_systemd" = xyes], [AC_DEFINE([HAVE_SYSTEMD], [1], [sd_notify available])])
  AM_CONDITIONAL([HAVE_SYSTEMD], [test "x$have_systemd" = xyes])
  AS_IF([test "x$have_systemd" = xyes], [SERVICE_TYPE=notify], [SERVICE_TYPE=simple])
  AC_SUBST([SERVICE_TYPE])
])

AC_DEFUN([IDT_CHECK_LIBCAP], [
  have_libcap=no
  PKG_CHECK_MODULES([LIBCAP], [libcap], [have_libcap=yes],
    [AC_MSG_ERROR([libcap not found: install the Debian package 'libcap-dev' (apt-get install libcap-dev)])])
  AC_DEFINE([HAVE_LIBCAP], [1], [libcap available])
])

AC_DEFUN([IDT_CHECK_CMOCKA], [
  have_cmocka=no
  PKG_CHECK_MODULES([CMOCKA], [cmocka], [have_cmocka=yes],
    [AC_MSG_WARN([cmocka not found: unit tests cannot run; install the Debian package 'libcmocka-dev'])])
  AM_CONDITIONAL([HAVE_CMOCKA], [test "x$have_cmocka" = xyes])
])

# Debian's default hardening (dpkg-buildflags): fortify, stack protector, PIE, relro/now.
AC_DEFUN([IDT_CHECK_HARDENING], [
  HARDEN_CFLAGS=""
  HARDEN_LDFLAGS=""
  for flag in -fstack-protector-strong -fstack-clash-protection -fcf-protection -fPIE; do
    IDT_CC_FLAG([$flag], [HARDEN_CFLAGS="$HARDEN_CFLAGS $flag"])
  done
  HARDEN_CPPFLAGS="-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2"
  for flag in -pie -Wl,-z,relro -Wl,-z,now -Wl,--as-needed; do
    IDT_LD_FLAG([$flag], [HARDEN_LDFLAGS="$HARDEN_LDFLAGS $flag"])
  done
  AC_SUBST([HARDEN_CFLAGS])
  AC_SUBST([HARDEN_CPPFLAGS])
  AC_SUBST([HARDEN_LDFLAGS])
])

AC_DEFUN([IDT_CC_FLAG], [
  AC_MSG_CHECKING([whether $CC accepts $1])
  save_CFLAGS=$CFLAGS; CFLAGS="$CFLAGS $1 -Werror"
  AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])], [AC_MSG_RESULT([yes]); $2], [AC_MSG_RESULT([no])])
  CFLAGS=$save_CFLAGS
])

AC_DEFUN([IDT_LD_FLAG], [
  AC_MSG_CHECKING([whether the linker accepts $1])
  save_LDFLAGS=$LDFLAGS; LDFLAGS="$LDFLAGS $1"
  AC_LINK_IFELSE([AC_LANG_PROGRAM([], [])], [AC_MSG_RESULT([yes]); $2], [AC_MSG_RESULT([no])])
  LDFLAGS=$save_LDFLAGS
])

AC_DEFUN([AX_PTHREAD_SIMPLE], [
  PTHREAD_CFLAGS="-pthread"
  PTHREAD_LIBS="-pthread"
  AC_SUBST([PTHREAD_CFLAGS])
  AC_SUBST([PTHREAD_LIBS])
])
