/* The interface between pyrunc's Python code and its small C executor.
 *
 * Python compiles a container's configuration into an array of steps; the
 * executor runs them in a freshly cloned child, in order, without running any
 * Python. A failing step is reported to the parent over the sync socket as
 * (step index, errno) and the child exits.
 *
 * This header is read by cffi's cdef as well as by the C compiler, so it holds
 * only plain declarations.
 */

enum pyrunc_op {
    PYRUNC_OP_SYNC = 1,        /* num[0]: code; wait for the parent's reply */
    PYRUNC_OP_SETNS,           /* fd: namespace file; num[0]: its type */
    PYRUNC_OP_UNSHARE,         /* flags: CLONE_NEW* */
    PYRUNC_OP_FORK,            /* fork; the parent half exits at once */
    PYRUNC_OP_REPORT_PID,      /* tell the parent who we are (SCM_CREDENTIALS) */
    PYRUNC_OP_MOUNT,           /* mount(source, target, fstype, flags, data) */
    PYRUNC_OP_MOUNT_IN_ROOT,   /* mount onto root/target, created safely */
    PYRUNC_OP_MKDIR_IN_ROOT,   /* root/target and its parents, as missing */
    PYRUNC_OP_SETATTR_IN_ROOT, /* mount_setattr, recursive: num: attr_set, attr_clr */
    PYRUNC_OP_MKNOD_IN_ROOT,   /* num: mode, device, uid, gid */
    PYRUNC_OP_SYMLINK_IN_ROOT, /* target: the link; source: what it points to */
    PYRUNC_OP_PIVOT_ROOT,      /* root: the new root */
    PYRUNC_OP_MOVE_ROOT,       /* root: moved over / and chrooted into */
    PYRUNC_OP_MASK,            /* target: hidden behind /dev/null or a tmpfs */
    PYRUNC_OP_READONLY,        /* target: bind mounted read-only onto itself */
    PYRUNC_OP_REMOUNT,         /* target remounted with flags, keeping its locks */
    PYRUNC_OP_SETHOSTNAME,     /* data */
    PYRUNC_OP_SETDOMAINNAME,   /* data */
    PYRUNC_OP_WRITE_FILE,      /* write data to the existing file target */
    PYRUNC_OP_SETRLIMIT,       /* num: resource, soft, hard */
    PYRUNC_OP_SETGROUPS,       /* list: group ids */
    PYRUNC_OP_SETRESGID,       /* num[0] */
    PYRUNC_OP_SETRESUID,       /* num[0] */
    PYRUNC_OP_CHDIR,           /* target; must stay inside the root */
    PYRUNC_OP_UMASK,           /* num[0] */
    PYRUNC_OP_PRCTL,           /* num: option, arg2, arg3 */
    PYRUNC_OP_DROP_BOUNDING,   /* list[0]: capabilities to keep; num[0]: last cap */
    PYRUNC_OP_SET_CAPS,        /* list: effective, permitted, inheritable, ambient */
    PYRUNC_OP_SECCOMP,         /* data: BPF of num[0] instructions; flags: filter flags;
                                * with a listener: fd: the agent's socket, num[1]: a pipe
                                * holding the message sent with the notify fd */
    PYRUNC_OP_CONSOLE,         /* fd: console socket; num: rows, columns; target: console */
    PYRUNC_OP_JOIN_KEYRING,    /* data: the name of a new session keyring */
    PYRUNC_OP_SETSID,
    PYRUNC_OP_DUP2,      /* fd onto num[0] */
    PYRUNC_OP_CLOSE_FDS, /* close fds from num[0] up, but those in list */
    PYRUNC_OP_RESET_SIGNALS,
    PYRUNC_OP_READY,      /* tell the parent set-up is done; close the socket */
    PYRUNC_OP_WAIT_START, /* fd: read one byte, the go-ahead of `start` */
    PYRUNC_OP_FIND_EXEC,  /* target: argv[0]; data: $PATH of the process */
    PYRUNC_OP_EXEC,       /* argv, envp; executes what FIND_EXEC found */
};

/* What each step reads; unused fields are zero or NULL. */
struct pyrunc_step {
    int op;
    int fd;
    unsigned long flags;
    long long num[4];
    const char *root;
    const char *target;
    const char *source;
    const char *fstype;
    const char *data;
    char *const *argv;
    char *const *envp;
    const long long *list;
    int nlist;
};

enum pyrunc_msg_kind {
    PYRUNC_MSG_SYNC = 1,  /* value: the code of a SYNC step */
    PYRUNC_MSG_PID = 2,   /* the sender's pid comes as its credentials */
    PYRUNC_MSG_ERROR = 3, /* step, err */
    PYRUNC_MSG_READY = 4,
};

/* One message from the child to the parent. */
struct pyrunc_msg {
    int kind;
    int step;
    int err;
    int value;
};

/* Clone a child with clone_flags and run steps in it. Returns the child's pid,
 * or -errno when clone failed; the child never returns. */
int pyrunc_spawn(unsigned long clone_flags, const struct pyrunc_step *steps, int nsteps,
                 int sync_fd);

/* One rule of a seccomp filter: its arguments follow, in order, in a
 * separate array of pyrunc_seccomp_arg. */
struct pyrunc_seccomp_rule {
    int syscall;
    unsigned int action;
    int nargs;
};

struct pyrunc_seccomp_arg {
    unsigned int index;
    int op;
    unsigned long long value;
    unsigned long long value_two;
};

/* Compile rules with libseccomp and write the BPF program to out_fd.
 * Returns 0 or -errno; *failed_rule names a rule libseccomp refused. */
int pyrunc_seccomp_compile(unsigned int default_action, const unsigned int *arches, int narches,
                           const struct pyrunc_seccomp_rule *rules, int nrules,
                           const struct pyrunc_seccomp_arg *args, int out_fd, int *failed_rule);

/* The native number of a syscall name, negative when unknown. */
int pyrunc_seccomp_syscall(const char *name);

/* The audit token of an architecture name ("x86_64"), 0 when unknown. */
unsigned int pyrunc_seccomp_arch(const char *name);

/* A close-on-exec SOCK_SEQPACKET pair for the sync protocol: fds[0] is the
 * parent's end and receives the sender's credentials with each message. */
int pyrunc_sync_pair(int fds[2]);

/* Receive one message on the parent's end; *pid is the sender's pid as this
 * process sees it. Returns the bytes received (0 at end of file) or -errno. */
int pyrunc_sync_recv(int fd, struct pyrunc_msg *msg, int *pid);

/* Connect a new close-on-exec AF_UNIX stream socket to path: its fd or -errno. */
int pyrunc_unix_connect(const char *path);

/* Thin syscall wrappers Python's os module lacks; each returns 0 or -errno. */
int pyrunc_setns(int fd, int nstype);
int pyrunc_unshare(int flags);
