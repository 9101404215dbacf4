#!/bin/sh -eux
# The student account: its terminal and checks run as this user, so it gets
# the DTrace privileges the labs need (own processes, syscall/profile/USDT
# providers) without root.

if ! id student >/dev/null 2>&1; then
    useradd -m -d /export/home/student -s /usr/bin/bash student
fi
usermod -K defaultpriv=basic,dtrace_proc,dtrace_user student

# tmux and the labs find the workspace through this variable (see 60-lab-deps.sh).
profile=/export/home/student/.profile
grep -q TRACELAB_WORKSPACE "$profile" 2>/dev/null ||
    echo "export TRACELAB_WORKSPACE=\$HOME/labs" >>"$profile"
chown student "$profile"

# The privilege must be in the account, not only in a login shell.
grep '^student:' /etc/user_attr | grep -q 'dtrace_proc,dtrace_user'
