/* The step executor that runs in a container's first process.
 *
 * After clone the child is a copy of the Python runtime, but it runs no
 * Python: it walks the array of steps prepared by the parent and ends in
 * execve. Everything here is a direct system call; the executor decides
 * nothing on its own. A failure is sent to the parent as (step, errno).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <grp.h>
#include <termios.h>
#include <unistd.h>

#include "pyrunc_native.h"

#define KEYCTL_JOIN_SESSION_KEYRING 1

struct executor {
    int sync_fd;
    char exec_path[PATH_MAX];
};

static int send_msg(int fd, int kind, int step, int err, int value)
{
    struct pyrunc_msg msg = {.kind = kind, .step = step, .err = err, .value = value};
    ssize_t n;

    if (fd < 0)
        return -EBADF;
    do {
        n = send(fd, &msg, sizeof(msg), MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof(msg) ? 0 : -errno;
}

static int wait_reply(int fd)
{
    char reply = 0;
    ssize_t n;

    do {
        n = read(fd, &reply, 1);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    return (n == 1 && reply == 'G') ? 0 : -ECANCELED;
}

static void proc_fd_path(char *buf, size_t size, int fd)
{
    snprintf(buf, size, "/proc/self/fd/%d", fd);
}

static int open_in_root(int rootfd, const char *path, int flags)
{
    struct open_how how = {
        .flags = (unsigned long long)(flags | O_CLOEXEC),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    int fd, tries;

    /* the kernel answers EAGAIN when a mount or rename anywhere on the host
     * raced with a ".." in the walk; the walk is then simply repeated */
    for (tries = 0; tries < 128; tries++) {
        fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
        if (fd >= 0 || errno != EAGAIN)
            break;
    }
    return fd < 0 ? -errno : fd;
}

/* Split path (relative, normalised by Python) at its last slash. */
static const char *split_last(char *path)
{
    char *slash = strrchr(path, '/');

    if (!slash)
        return NULL;
    *slash = '\0';
    return slash + 1;
}

/* Continue a walk at the target of the dangling symlink name in parent:
 * rewrite path, whose first `done` bytes led to it, to the target followed by
 * the rest of path. An absolute target starts again at the root. */
static int follow_dangling(int parent, const char *name, char *path, size_t done,
                           const char *parent_path)
{
    char target[PATH_MAX], next[PATH_MAX];
    ssize_t n = readlinkat(parent, name, target, sizeof(target) - 1);
    int len;

    if (n < 0)
        return errno == EINVAL ? -ENOTDIR : -errno;
    target[n] = '\0';
    if (target[0] == '/' || !parent_path)
        len = snprintf(next, sizeof(next), "%s%s", target, path + done);
    else
        len = snprintf(next, sizeof(next), "%s/%s%s", parent_path, target, path + done);
    if (len < 0 || (size_t)len >= sizeof(next))
        return -ENAMETOOLONG;
    strcpy(path, next + strspn(next, "/"));
    return 0;
}

/* Open the directory rel inside rootfd, creating what is missing. Every
 * prefix is resolved with the root as its root, so a symlink never leads
 * out of it; a dangling symlink on the way is followed inside the root and
 * its target created. */
static int mkdir_in_root(int rootfd, const char *rel)
{
    char path[PATH_MAX], prefix[PATH_MAX];
    size_t len, i;
    int links = 0;

    if (strlen(rel) >= sizeof(path))
        return -ENAMETOOLONG;
    strcpy(path, rel);
restart:
    len = strlen(path);
    if (len == 0 || strcmp(path, ".") == 0)
        return open_in_root(rootfd, ".", O_PATH | O_DIRECTORY);
    for (i = 1; i <= len; i++) {
        int fd, parent, ret;
        const char *last, *name;

        if (path[i] != '/' && path[i] != '\0')
            continue;
        memcpy(prefix, path, i);
        prefix[i] = '\0';
        fd = open_in_root(rootfd, prefix, O_PATH | O_DIRECTORY);
        if (fd >= 0) {
            if (i == len)
                return fd;
            close(fd);
            continue;
        }
        if (fd != -ENOENT)
            return fd;
        last = split_last(prefix);
        name = last ? last : prefix;
        parent = open_in_root(rootfd, last ? prefix : ".", O_PATH | O_DIRECTORY);
        if (parent < 0)
            return parent;
        ret = mkdirat(parent, name, 0755) < 0 ? -errno : 0;
        if (ret == -EEXIST) {
            ret = ++links > 40 ? -ELOOP
                               : follow_dangling(parent, name, path, i, last ? prefix : NULL);
            close(parent);
            if (ret < 0)
                return ret;
            goto restart;
        }
        close(parent);
        if (ret < 0)
            return ret;
        i--; /* open the prefix just made */
    }
    return -ENOENT;
}

/* Open rel inside rootfd as an O_PATH fd; create it first, as a directory
 * (kind 'd') or an empty file (kind 'f'), when it is missing. */
static int resolve_in_root(int rootfd, const char *rel, int kind)
{
    char parent_path[PATH_MAX];
    const char *last;
    int fd, parent;

    fd = open_in_root(rootfd, rel, O_PATH);
    if (fd != -ENOENT || kind == 0)
        return fd;
    if (kind == 'd')
        return mkdir_in_root(rootfd, rel);
    if (strlen(rel) >= sizeof(parent_path))
        return -ENAMETOOLONG;
    strcpy(parent_path, rel);
    last = split_last(parent_path);
    parent = mkdir_in_root(rootfd, last ? parent_path : ".");
    if (parent < 0)
        return parent;
    fd = openat(parent, last ? last : rel, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) {
        fd = -errno;
        close(parent);
        return fd;
    }
    if (fd >= 0)
        close(fd);
    close(parent);
    return open_in_root(rootfd, rel, O_PATH);
}

static int open_root(const char *root)
{
    int fd = open(root ? root : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);

    return fd < 0 ? -errno : fd;
}

static int mount_at_fd(const char *source, int fd, const char *fstype, unsigned long flags,
                       const char *data)
{
    char path[64];

    proc_fd_path(path, sizeof(path), fd);
    return mount(source, path, fstype, flags, data) < 0 ? -errno : 0;
}

/* Mount flags a read-only remount must keep: in a user namespace the kernel
 * refuses to drop nosuid, nodev or noexec once they are set. */
static unsigned long locked_flags(int fd)
{
    struct statvfs st;
    char path[64];
    unsigned long flags = 0;

    proc_fd_path(path, sizeof(path), fd);
    if (statvfs(path, &st) < 0)
        return 0;
    if (st.f_flag & ST_NOSUID)
        flags |= MS_NOSUID;
    if (st.f_flag & ST_NODEV)
        flags |= MS_NODEV;
    if (st.f_flag & ST_NOEXEC)
        flags |= MS_NOEXEC;
    return flags;
}

/* Refuse a proc or sysfs destination reached through a symlink: the rootfs
 * would choose where they land, and with them the masks, read-only paths and
 * sysctl writes that follow. A missing destination is made later. */
static int check_kernel_fs_target(int rootfd, const struct pyrunc_step *s)
{
    struct open_how how = {
        .flags = O_PATH | O_CLOEXEC,
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS,
    };
    int fd;

    if (!s->fstype || (strcmp(s->fstype, "proc") != 0 && strcmp(s->fstype, "sysfs") != 0))
        return 0;
    fd = (int)syscall(SYS_openat2, rootfd, s->target, &how, sizeof(how));
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    close(fd);
    return 0;
}

/* The three mount calls one spec mount may need: the mount itself, a
 * remount for flags a bind mount ignores, and a propagation change. */
static int do_mount_in_root(const struct pyrunc_step *s)
{
    unsigned long remount = (unsigned long)s->num[1];
    unsigned long propagation = (unsigned long)s->num[2];
    int rootfd, fd, ret;

    rootfd = open_root(s->root);
    if (rootfd < 0)
        return rootfd;
    ret = check_kernel_fs_target(rootfd, s);
    if (ret < 0) {
        close(rootfd);
        return ret;
    }
    fd = resolve_in_root(rootfd, s->target, (int)s->num[0]);
    if (fd < 0) {
        close(rootfd);
        return fd;
    }
    ret = mount_at_fd(s->source, fd, s->fstype, s->flags, s->data);
    close(fd);
    if (ret == 0 && (remount || propagation)) {
        /* reopen: the old fd points below the new mount */
        fd = open_in_root(rootfd, s->target, O_PATH);
        if (fd < 0)
            ret = fd;
        if (ret == 0 && remount)
            ret = mount_at_fd(NULL, fd, NULL, remount | locked_flags(fd), NULL);
        if (ret == 0 && propagation)
            ret = mount_at_fd(NULL, fd, NULL, propagation, NULL);
        if (fd >= 0)
            close(fd);
    }
    close(rootfd);
    return ret;
}

static int do_setattr_in_root(const struct pyrunc_step *s)
{
    struct mount_attr attr = {
        .attr_set = (unsigned long long)s->num[0],
        .attr_clr = (unsigned long long)s->num[1],
    };
    int rootfd, fd, ret = 0;

    rootfd = open_root(s->root);
    if (rootfd < 0)
        return rootfd;
    fd = open_in_root(rootfd, s->target, O_PATH);
    close(rootfd);
    if (fd < 0)
        return fd;
    if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
        ret = -errno;
    close(fd);
    return ret;
}

/* Open the parent directory of target inside root, creating it as needed, as
 * a real directory fd (the *at calls below refuse O_PATH); name receives the
 * last component. */
static int open_parent_in_root(const char *root, const char *target, char *name, size_t size)
{
    char parent_path[PATH_MAX];
    const char *last;
    int rootfd, parent, fd;

    if (strlen(target) >= sizeof(parent_path))
        return -ENAMETOOLONG;
    strcpy(parent_path, target);
    last = split_last(parent_path);
    if (strlen(last ? last : target) >= size)
        return -ENAMETOOLONG;
    strcpy(name, last ? last : target);
    rootfd = open_root(root);
    if (rootfd < 0)
        return rootfd;
    parent = mkdir_in_root(rootfd, last ? parent_path : ".");
    close(rootfd);
    if (parent < 0)
        return parent;
    fd = openat(parent, ".", O_DIRECTORY | O_CLOEXEC);
    close(parent);
    return fd < 0 ? -errno : fd;
}

static int do_mknod_in_root(const struct pyrunc_step *s)
{
    char name[NAME_MAX + 1];
    int dir, ret = 0;

    dir = open_parent_in_root(s->root, s->target, name, sizeof(name));
    if (dir < 0)
        return dir;
    if (mknodat(dir, name, (mode_t)s->num[0], (dev_t)s->num[1]) < 0) {
        struct stat st;

        /* take over only a node of the same type: fchmodat follows a
         * symlink, and before pivot_root an absolute one leads to the host */
        if (errno != EEXIST || fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            ret = -errno;
        else if ((st.st_mode & S_IFMT) != ((mode_t)s->num[0] & S_IFMT))
            ret = -EEXIST;
    }
    if (ret == 0 &&
        fchownat(dir, name, (uid_t)s->num[2], (gid_t)s->num[3], AT_SYMLINK_NOFOLLOW) < 0)
        ret = -errno;
    if (ret == 0 && fchmodat(dir, name, (mode_t)s->num[0] & 07777, 0) < 0)
        ret = -errno;
    close(dir);
    return ret;
}

static int do_symlink_in_root(const struct pyrunc_step *s)
{
    char name[NAME_MAX + 1];
    int dir, ret = 0;

    dir = open_parent_in_root(s->root, s->target, name, sizeof(name));
    if (dir < 0)
        return dir;
    if (symlinkat(s->source, dir, name) < 0 && errno != EEXIST)
        ret = -errno;
    close(dir);
    return ret;
}

static int do_pivot_root(const char *root)
{
    int newroot = open(root, O_DIRECTORY | O_RDONLY | O_CLOEXEC);

    if (newroot < 0)
        return -errno;
    /* pivot the root onto itself, then detach the old one stacked below */
    if (fchdir(newroot) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 ||
        mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0 || umount2(".", MNT_DETACH) < 0 ||
        chdir("/") < 0) {
        int err = -errno;

        close(newroot);
        return err;
    }
    close(newroot);
    return 0;
}

static int do_move_root(const char *root)
{
    if (chdir(root) < 0 || mount(root, "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 ||
        chdir("/") < 0)
        return -errno;
    return 0;
}

/* Open the container's /dev/null, refusing anything but the null device
 * itself: a rootfs could make it a symlink to a file of its choosing, which
 * masking would then bind, writable, over the masked path. */
static int open_dev_null(void)
{
    struct stat st;
    int fd = open_in_root(AT_FDCWD, "/dev/null", O_PATH | O_NOFOLLOW);

    if (fd < 0)
        return fd;
    if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
        close(fd);
        return -ENODEV;
    }
    return fd;
}

static int do_mask(const struct pyrunc_step *s)
{
    struct stat st;
    char null_path[64];
    int fd, null_fd, ret;

    fd = open_in_root(AT_FDCWD, s->target, O_PATH | O_NOFOLLOW);
    if (fd == -ENOENT)
        return 0;
    if (fd < 0)
        return fd;
    if (fstat(fd, &st) < 0) {
        ret = -errno;
    } else if (S_ISDIR(st.st_mode)) {
        ret = mount_at_fd("tmpfs", fd, "tmpfs", MS_RDONLY, NULL);
    } else {
        null_fd = open_dev_null();
        ret = null_fd;
        if (null_fd >= 0) {
            proc_fd_path(null_path, sizeof(null_path), null_fd);
            ret = mount_at_fd(null_path, fd, NULL, MS_BIND, NULL);
            close(null_fd);
        }
    }
    close(fd);
    return ret;
}

static int do_readonly(const struct pyrunc_step *s)
{
    int fd, ret;
    char path[64];

    fd = open_in_root(AT_FDCWD, s->target, O_PATH | O_NOFOLLOW);
    if (fd == -ENOENT)
        return 0;
    if (fd < 0)
        return fd;
    proc_fd_path(path, sizeof(path), fd);
    ret = mount_at_fd(path, fd, NULL, MS_BIND | MS_REC, NULL);
    close(fd);
    if (ret < 0)
        return ret;
    fd = open_in_root(AT_FDCWD, s->target, O_PATH | O_NOFOLLOW);
    if (fd < 0)
        return fd;
    ret = mount_at_fd(NULL, fd, NULL,
                      MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC |
                          locked_flags(fd),
                      NULL);
    close(fd);
    return ret;
}

static int do_remount(const struct pyrunc_step *s)
{
    int fd = open(s->target, O_PATH | O_CLOEXEC), ret;

    if (fd < 0)
        return -errno;
    ret = mount_at_fd(NULL, fd, NULL, s->flags | locked_flags(fd), s->data);
    close(fd);
    return ret;
}

/* Open path, a file of /proc, for writing. It must be on the procfs mounted
 * at /proc itself, reached without crossing a mount or leaving /proc: else a
 * rootfs that makes /proc a symlink, or puts a mount over a file below it,
 * would steer a write meant for the kernel to a file of its choosing. */
static int open_proc_file(const char *path)
{
    struct open_how how = {
        .flags = O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS,
    };
    struct statfs fs;
    int proc, fd;

    proc = open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (proc < 0)
        return -errno;
    if (fstatfs(proc, &fs) < 0 || fs.f_type != PROC_SUPER_MAGIC) {
        close(proc);
        return -EXDEV;
    }
    fd = (int)syscall(SYS_openat2, proc, path + strlen("/proc/"), &how, sizeof(how));
    if (fd < 0)
        fd = -errno;
    close(proc);
    return fd;
}

static int do_write_file(const struct pyrunc_step *s)
{
    size_t len = strlen(s->data);
    ssize_t n;
    int fd;

    if (strncmp(s->target, "/proc/", 6) == 0)
        fd = open_proc_file(s->target);
    else if ((fd = open(s->target, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        fd = -errno;
    if (fd < 0)
        return fd;
    n = write(fd, s->data, len);
    if (n < 0 || (size_t)n != len) {
        int err = n < 0 ? -errno : -EIO;

        close(fd);
        return err;
    }
    close(fd);
    return 0;
}

static int do_setgroups(const struct pyrunc_step *s)
{
    gid_t groups[NGROUPS_MAX > 65536 ? 65536 : NGROUPS_MAX];
    int i;

    if (s->nlist > (int)(sizeof(groups) / sizeof(groups[0])))
        return -E2BIG;
    for (i = 0; i < s->nlist; i++)
        groups[i] = (gid_t)s->list[i];
    return setgroups((size_t)s->nlist, groups) < 0 ? -errno : 0;
}

static int do_chdir(const char *path)
{
    char cwd[PATH_MAX];

    if (chdir(path) < 0)
        return -errno;
    /* a directory reached through an fd inherited from the host is not below
     * our root, and the kernel reports it as unreachable */
    if (!getcwd(cwd, sizeof(cwd)))
        return -errno;
    return cwd[0] == '/' ? 0 : -ENOENT;
}

static int capset_v3(unsigned long long eff, unsigned long long prm, unsigned long long inh)
{
    struct {
        unsigned int version;
        int pid;
    } header = {0x20080522, 0};
    struct {
        unsigned int effective, permitted, inheritable;
    } data[2] = {
        {(unsigned int)eff, (unsigned int)prm, (unsigned int)inh},
        {(unsigned int)(eff >> 32), (unsigned int)(prm >> 32), (unsigned int)(inh >> 32)},
    };

    return syscall(SYS_capset, &header, data) < 0 ? -errno : 0;
}

static int do_drop_bounding(const struct pyrunc_step *s)
{
    unsigned long long keep = (unsigned long long)s->list[0];
    int cap;

    for (cap = 0; cap <= (int)s->num[0]; cap++) {
        if (keep & (1ULL << cap))
            continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
            return -errno;
    }
    return 0;
}

static int do_set_caps(const struct pyrunc_step *s)
{
    unsigned long long ambient = (unsigned long long)s->list[3];
    int cap, ret;

    ret = capset_v3((unsigned long long)s->list[0], (unsigned long long)s->list[1],
                    (unsigned long long)s->list[2]);
    if (ret < 0)
        return ret;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return -errno;
    for (cap = 0; cap < 64; cap++) {
        if ((ambient & (1ULL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
            return -errno;
    }
    return 0;
}

static int send_fd(int sock, int fd, const char *payload, size_t len)
{
    char control[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {.iov_base = (void *)payload, .iov_len = len};
    struct msghdr msg = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control,
        .msg_controllen = sizeof(control),
    };
    struct cmsghdr *cmsg;

    memset(control, 0, sizeof(control));
    cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

static ssize_t read_all(int fd, char *buf, size_t size)
{
    size_t got = 0;

    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* Load the filter. With a listener socket, the notify fd the kernel returns
 * goes to the agent with the message the parent left in a pipe; the pipe is
 * read before the filter can refuse the read. */
static int do_seccomp(const struct pyrunc_step *s)
{
    static char message[65536];
    struct sock_fprog prog = {
        .len = (unsigned short)s->num[0],
        .filter = (struct sock_filter *)(void *)s->data,
    };
    ssize_t len = 0;
    int listener, ret;

    if (s->fd >= 0) {
        len = read_all((int)s->num[1], message, sizeof(message));
        if (len < 0)
            return (int)len;
        close((int)s->num[1]);
    }
    listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned int)s->flags, &prog);
    if (listener < 0)
        return -errno;
    if (s->fd < 0)
        return 0;
    ret = send_fd(s->fd, listener, message, (size_t)len);
    close(listener);
    close(s->fd);
    return ret;
}

/* Bind the pty over the console file, creating it if needed. */
static int bind_console(const char *pty, const char *console)
{
    int fd = open(console, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0666);

    if (fd < 0)
        return -errno;
    close(fd);
    return mount(pty, console, NULL, MS_BIND, NULL) < 0 ? -errno : 0;
}

/* Make a pty in the container's devpts, hand its master to the console
 * socket and take the other end as the controlling terminal and stdio. */
static int do_console(const struct pyrunc_step *s)
{
    struct winsize size = {.ws_row = (unsigned short)s->num[0],
                           .ws_col = (unsigned short)s->num[1]};
    char name[64];
    int master, slave, ptn = 0, unlock = 0, ret;

    master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0)
        return -errno;
    if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &ptn) < 0) {
        ret = -errno;
        close(master);
        return ret;
    }
    snprintf(name, sizeof(name), "/dev/pts/%d", ptn);
    slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (slave < 0) {
        ret = -errno;
        close(master);
        return ret;
    }
    if (size.ws_row && size.ws_col)
        ioctl(slave, TIOCSWINSZ, &size);
    ret = send_fd(s->fd, master, name, strlen(name));
    close(master);
    if (ret == 0 && s->target)
        ret = bind_console(name, s->target);
    if (ret == 0 && ioctl(slave, TIOCSCTTY, 0) < 0)
        ret = -errno;
    if (ret == 0 && (dup2(slave, 0) < 0 || dup2(slave, 1) < 0 || dup2(slave, 2) < 0))
        ret = -errno;
    close(slave);
    return ret;
}

/* Close every fd from num[0] up but those in the list and the sync socket. */
static int do_close_fds(const struct executor *ex, const struct pyrunc_step *s)
{
    unsigned int from = (unsigned int)s->num[0];
    long long keep[64];
    int n = s->nlist + 1, i, j;

    if (n > 64)
        return -E2BIG;
    /* sort the fds to keep, then close the gaps between them */
    for (i = 0; i < n; i++) {
        long long v = i < s->nlist ? s->list[i] : ex->sync_fd;

        for (j = i; j > 0 && keep[j - 1] > v; j--)
            keep[j] = keep[j - 1];
        keep[j] = v;
    }
    for (i = 0; i < n; i++) {
        if (keep[i] < from)
            continue;
        if (keep[i] > from && syscall(SYS_close_range, from, (unsigned int)keep[i] - 1, 0) < 0)
            return -errno;
        from = (unsigned int)keep[i] + 1;
    }
    if (syscall(SYS_close_range, from, ~0U, 0) < 0)
        return -errno;
    return 0;
}

static int reset_signals(void)
{
    sigset_t all;
    int sig;

    for (sig = 1; sig < _NSIG; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
    }
    sigemptyset(&all);
    return sigprocmask(SIG_SETMASK, &all, NULL) < 0 ? -errno : 0;
}

static void exit_on_signal(int sig)
{
    _exit(128 + sig);
}

/* Set the action of every signal whose default is to end the process. */
static void on_ending_signals(void (*handler)(int))
{
    static const int sparing[] = {SIGKILL,  SIGSTOP, SIGCHLD, SIGCONT, SIGURG,
                                  SIGWINCH, SIGTSTP, SIGTTIN, SIGTTOU};
    struct sigaction action = {.sa_handler = handler};
    int sig;
    size_t i;

    for (sig = 1; sig < SIGRTMIN; sig++) {
        for (i = 0; i < sizeof(sparing) / sizeof(sparing[0]); i++)
            if (sparing[i] == sig)
                break;
        if (i == sizeof(sparing) / sizeof(sparing[0]))
            sigaction(sig, &action, NULL);
    }
}

/* Wait for `start`. A pid namespace's init ignores signals it has no handler
 * for, so while it waits, a signal that would end a process ends it. */
static int wait_start(int fd)
{
    char byte;
    ssize_t n;

    on_ending_signals(exit_on_signal);
    do {
        n = read(fd, &byte, 1);
    } while (n < 0 && errno == EINTR);
    on_ending_signals(SIG_DFL);
    if (n < 0)
        return -errno;
    close(fd);
    return n == 1 ? 0 : -ECANCELED;
}

static int is_executable(const char *path)
{
    struct stat st;

    if (stat(path, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return -EACCES;
    return access(path, X_OK) < 0 ? -errno : 0;
}

/* Look argv[0] up in the process's own $PATH, as a shell would. */
static int find_exec(struct executor *ex, const char *name, const char *search)
{
    const char *dir = search;
    int saw_eacces = 0;

    if (strchr(name, '/')) {
        if (strlen(name) >= sizeof(ex->exec_path))
            return -ENAMETOOLONG;
        strcpy(ex->exec_path, name);
        return is_executable(name);
    }
    while (dir && *dir) {
        const char *end = strchrnul(dir, ':');
        int len = (int)(end - dir), ret;

        snprintf(ex->exec_path, sizeof(ex->exec_path), "%.*s/%s", len, len ? dir : ".", name);
        ret = is_executable(ex->exec_path);
        if (ret == 0)
            return 0;
        if (ret == -EACCES)
            saw_eacces = 1;
        dir = *end ? end + 1 : end;
    }
    ex->exec_path[0] = '\0';
    return saw_eacces ? -EACCES : -ENOENT;
}

static int do_fork(void)
{
    pid_t pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);

    if (pid < 0)
        return -errno;
    if (pid > 0)
        _exit(0);
    return 0;
}

static int run_step(struct executor *ex, const struct pyrunc_step *s)
{
    switch (s->op) {
    case PYRUNC_OP_SYNC: {
        int ret = send_msg(ex->sync_fd, PYRUNC_MSG_SYNC, 0, 0, (int)s->num[0]);

        return ret < 0 ? ret : wait_reply(ex->sync_fd);
    }
    case PYRUNC_OP_SETNS:
        return setns(s->fd, (int)s->num[0]) < 0 ? -errno : 0;
    case PYRUNC_OP_UNSHARE:
        return unshare((int)s->flags) < 0 ? -errno : 0;
    case PYRUNC_OP_FORK:
        return do_fork();
    case PYRUNC_OP_REPORT_PID:
        return send_msg(ex->sync_fd, PYRUNC_MSG_PID, 0, 0, 0);
    case PYRUNC_OP_MOUNT:
        return mount(s->source, s->target, s->fstype, s->flags, s->data) < 0 ? -errno : 0;
    case PYRUNC_OP_MOUNT_IN_ROOT:
        return do_mount_in_root(s);
    case PYRUNC_OP_MKDIR_IN_ROOT: {
        int rootfd = open_root(s->root), fd;

        if (rootfd < 0)
            return rootfd;
        fd = mkdir_in_root(rootfd, s->target);
        close(rootfd);
        if (fd < 0)
            return fd;
        close(fd);
        return 0;
    }
    case PYRUNC_OP_SETATTR_IN_ROOT:
        return do_setattr_in_root(s);
    case PYRUNC_OP_MKNOD_IN_ROOT:
        return do_mknod_in_root(s);
    case PYRUNC_OP_SYMLINK_IN_ROOT:
        return do_symlink_in_root(s);
    case PYRUNC_OP_PIVOT_ROOT:
        return do_pivot_root(s->root);
    case PYRUNC_OP_MOVE_ROOT:
        return do_move_root(s->root);
    case PYRUNC_OP_MASK:
        return do_mask(s);
    case PYRUNC_OP_READONLY:
        return do_readonly(s);
    case PYRUNC_OP_REMOUNT:
        return do_remount(s);
    case PYRUNC_OP_SETHOSTNAME:
        return sethostname(s->data, strlen(s->data)) < 0 ? -errno : 0;
    case PYRUNC_OP_SETDOMAINNAME:
        return setdomainname(s->data, strlen(s->data)) < 0 ? -errno : 0;
    case PYRUNC_OP_WRITE_FILE:
        return do_write_file(s);
    case PYRUNC_OP_SETRLIMIT: {
        struct rlimit lim = {(rlim_t)s->num[1], (rlim_t)s->num[2]};

        return setrlimit((int)s->num[0], &lim) < 0 ? -errno : 0;
    }
    case PYRUNC_OP_SETGROUPS:
        return do_setgroups(s);
    case PYRUNC_OP_SETRESGID: {
        gid_t gid = (gid_t)s->num[0];

        return setresgid(gid, gid, gid) < 0 ? -errno : 0;
    }
    case PYRUNC_OP_SETRESUID: {
        uid_t uid = (uid_t)s->num[0];

        return setresuid(uid, uid, uid) < 0 ? -errno : 0;
    }
    case PYRUNC_OP_CHDIR:
        return do_chdir(s->target);
    case PYRUNC_OP_UMASK:
        umask((mode_t)s->num[0]);
        return 0;
    case PYRUNC_OP_PRCTL:
        return prctl((int)s->num[0], (unsigned long)s->num[1], (unsigned long)s->num[2], 0, 0) < 0
                   ? -errno
                   : 0;
    case PYRUNC_OP_DROP_BOUNDING:
        return do_drop_bounding(s);
    case PYRUNC_OP_SET_CAPS:
        return do_set_caps(s);
    case PYRUNC_OP_SECCOMP:
        return do_seccomp(s);
    case PYRUNC_OP_CONSOLE:
        return do_console(s);
    case PYRUNC_OP_JOIN_KEYRING:
        return syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, s->data) < 0 ? -errno : 0;
    case PYRUNC_OP_SETSID:
        return setsid() < 0 ? -errno : 0;
    case PYRUNC_OP_DUP2:
        return dup2(s->fd, (int)s->num[0]) < 0 ? -errno : 0;
    case PYRUNC_OP_CLOSE_FDS:
        return do_close_fds(ex, s);
    case PYRUNC_OP_RESET_SIGNALS:
        return reset_signals();
    case PYRUNC_OP_READY: {
        int ret = send_msg(ex->sync_fd, PYRUNC_MSG_READY, 0, 0, 0);

        close(ex->sync_fd);
        ex->sync_fd = -1;
        return ret;
    }
    case PYRUNC_OP_WAIT_START:
        return wait_start(s->fd);
    case PYRUNC_OP_FIND_EXEC:
        return find_exec(ex, s->target, s->data);
    case PYRUNC_OP_EXEC:
        execve(ex->exec_path, s->argv, s->envp);
        return -errno;
    }
    return -EINVAL;
}

/* Report a failure: to the parent while it listens, else on stderr. */
static void report_failure(struct executor *ex, int index, const struct pyrunc_step *s, int err)
{
    if (send_msg(ex->sync_fd, PYRUNC_MSG_ERROR, index, -err, 0) == 0)
        return;
    if (s->op == PYRUNC_OP_EXEC)
        dprintf(2, "pyrunc: exec %s: %s\n", ex->exec_path, strerror(-err));
    else
        dprintf(2, "pyrunc: container set-up step %d failed: %s\n", index, strerror(-err));
}

static void run_steps(int sync_fd, const struct pyrunc_step *steps, int nsteps)
{
    static struct executor ex;
    int i;

    ex.sync_fd = sync_fd;
    ex.exec_path[0] = '\0';
    for (i = 0; i < nsteps; i++) {
        int ret = run_step(&ex, &steps[i]);

        if (ret < 0) {
            report_failure(&ex, i, &steps[i], ret);
            _exit(steps[i].op == PYRUNC_OP_EXEC ? 127 : 1);
        }
    }
    _exit(0);
}

int pyrunc_spawn(unsigned long clone_flags, const struct pyrunc_step *steps, int nsteps,
                 int sync_fd)
{
    pid_t pid = (pid_t)syscall(SYS_clone, SIGCHLD | clone_flags, NULL, NULL, NULL, NULL);

    if (pid < 0)
        return -errno;
    if (pid == 0)
        run_steps(sync_fd, steps, nsteps);
    return pid;
}

int pyrunc_sync_pair(int fds[2])
{
    int on = 1;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
        return -errno;
    if (setsockopt(fds[0], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) < 0) {
        int err = -errno;

        close(fds[0]);
        close(fds[1]);
        return err;
    }
    return 0;
}

int pyrunc_sync_recv(int fd, struct pyrunc_msg *msg, int *pid)
{
    char control[CMSG_SPACE(sizeof(struct ucred))];
    struct iovec iov = {.iov_base = msg, .iov_len = sizeof(*msg)};
    struct msghdr hdr = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control,
        .msg_controllen = sizeof(control),
    };
    struct cmsghdr *cmsg;
    ssize_t n;

    do {
        n = recvmsg(fd, &hdr, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    *pid = 0;
    for (cmsg = CMSG_FIRSTHDR(&hdr); cmsg; cmsg = CMSG_NXTHDR(&hdr, cmsg)) {
        if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_CREDENTIALS) {
            struct ucred cred;

            memcpy(&cred, CMSG_DATA(cmsg), sizeof(cred));
            *pid = cred.pid;
        }
    }
    return (int)n;
}

int pyrunc_unix_connect(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd;

    if (strlen(path) >= sizeof(addr.sun_path))
        return -ENAMETOOLONG;
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        int err = -errno;

        close(fd);
        return err;
    }
    return fd;
}

int pyrunc_setns(int fd, int nstype)
{
    return setns(fd, nstype) < 0 ? -errno : 0;
}

int pyrunc_unshare(int flags)
{
    return unshare(flags) < 0 ? -errno : 0;
}
