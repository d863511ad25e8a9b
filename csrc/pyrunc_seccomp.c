/* Seccomp filters compiled with libseccomp, in the runtime process.
 *
 * Python turns linux.seccomp into flat arrays of rules; this file feeds them
 * to libseccomp and exports the resulting BPF program into a file. The
 * container's init later loads that program with one seccomp(2) call, so
 * libseccomp never runs inside the container.
 */
#include <errno.h>
#include <seccomp.h>

#include "pyrunc_native.h"

static int add_arches(scmp_filter_ctx ctx, const unsigned int *arches, int narches)
{
    int i, ret;

    for (i = 0; i < narches; i++) {
        ret = seccomp_arch_add(ctx, arches[i]);
        if (ret < 0 && ret != -EEXIST)
            return ret;
    }
    return 0;
}

static int add_rule(scmp_filter_ctx ctx, const struct pyrunc_seccomp_rule *rule,
                    const struct pyrunc_seccomp_arg *args)
{
    struct scmp_arg_cmp cmp[6];
    int i;

    if (rule->nargs > 6)
        return -E2BIG;
    for (i = 0; i < rule->nargs; i++) {
        cmp[i].arg = args[i].index;
        cmp[i].op = (enum scmp_compare)args[i].op;
        cmp[i].datum_a = args[i].value;
        cmp[i].datum_b = args[i].value_two;
    }
    return seccomp_rule_add_array(ctx, rule->action, rule->syscall, (unsigned int)rule->nargs, cmp);
}

int pyrunc_seccomp_compile(unsigned int default_action, const unsigned int *arches, int narches,
                           const struct pyrunc_seccomp_rule *rules, int nrules,
                           const struct pyrunc_seccomp_arg *args, int out_fd, int *failed_rule)
{
    scmp_filter_ctx ctx = seccomp_init(default_action);
    int i, used = 0, ret;

    *failed_rule = -1;
    if (!ctx)
        return -EINVAL;
    ret = add_arches(ctx, arches, narches);
    for (i = 0; ret == 0 && i < nrules; i++) {
        ret = add_rule(ctx, &rules[i], args + used);
        used += rules[i].nargs;
        if (ret < 0)
            *failed_rule = i;
    }
    if (ret == 0)
        ret = seccomp_export_bpf(ctx, out_fd);
    seccomp_release(ctx);
    return ret;
}

int pyrunc_seccomp_syscall(const char *name)
{
    return seccomp_syscall_resolve_name(name);
}

unsigned int pyrunc_seccomp_arch(const char *name)
{
    return seccomp_arch_resolve_name(name);
}
