"""config.md Process: args, env, cwd, user, rlimits, terminal, Linux process fields."""

from __future__ import annotations

import re
from typing import Any

from conflib import config as configs
from conflib.case import Case, Skip, equal, must_fail, require
from conflib.registry import requirement

SPEC = "config.md"
CAP_BITS = {
    "CAP_CHOWN": 0,
    "CAP_KILL": 5,
    "CAP_NET_BIND_SERVICE": 10,
    "CAP_SYS_RESOURCE": 24,
}
# A root process that execs keeps bounding and inheritable, gets permitted =
# bounding | inheritable | ambient and effective = permitted (capabilities(7)),
# so this configuration is one whose sets all survive the exec unchanged.
CAPS = {
    "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
    "permitted": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
    "effective": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
    "inheritable": ["CAP_NET_BIND_SERVICE"],
    "ambient": ["CAP_NET_BIND_SERVICE"],
}
STATUS_FIELDS = {
    "bounding": "CapBnd",
    "permitted": "CapPrm",
    "effective": "CapEff",
    "inheritable": "CapInh",
    "ambient": "CapAmb",
}
LIMITS_LINE = re.compile(r"^(Max [a-z ]+?)\s{2,}(\S+)\s+(\S+)", re.MULTILINE)


def _status(case: Case, config: Any) -> dict[str, str]:
    config["process"]["args"] = ["cat", "/proc/self/status"]
    fields = {}
    for line in case.output(config).splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def _mask(names: list[str]) -> int:
    return sum(1 << CAP_BITS[name] for name in names)


def _limits(case: Case, rlimits: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    config = case.config("cat /proc/self/limits")
    config["process"]["rlimits"] = rlimits
    return {
        name: (soft, hard)
        for name, soft, hard in LIMITS_LINE.findall(case.output(config))
    }


@requirement(SPEC, "Process", "args are the program's argv, exactly (execvp)")
def args_exact(case: Case) -> None:
    script = 'for a in "$@"; do printf "[%s]" "$a"; done'
    args = ["sh", "-c", script, "zero", "a b", "", "c'd\"e"]
    equal(case.output(case.config(args=args)), "[a b][][c'd\"e]", "arguments seen")


@requirement(SPEC, "Process", "args[0] without a slash is looked up in PATH (execvp)")
def args_path_lookup(case: Case) -> None:
    config = case.config(args=["probe-in-path"])
    config["process"]["env"] = ["PATH=/nonexistent:/conformance/bin:/bin"]
    equal(case.output(config), "found-through-path\n", "output of probe-in-path")


@requirement(SPEC, "Process", "process.args with no entry MUST fail (one is REQUIRED)")
def args_empty(case: Case) -> None:
    must_fail(case.run(case.config(args=[])), "run with empty args")


@requirement(SPEC, "Process", "env entries are the program's environment (environ)")
def env_set(case: Case) -> None:
    config = case.config("env")
    config["process"]["env"] = ["PATH=/bin", "CONF_A=1", "CONF_B=x=y z"]
    lines = set(case.output(config).splitlines())
    require({"CONF_A=1", "CONF_B=x=y z"} <= lines, f"environment: {sorted(lines)}")


@requirement(
    SPEC, "Process", "env: the caller's environment does not reach the program"
)
def env_not_inherited(case: Case) -> None:
    lines = case.sh("env").splitlines()
    require(
        not any(line.startswith(configs.LEAK_MARKER) for line in lines),
        f"{configs.LEAK_MARKER} of the runtime's caller reached the container",
    )


@requirement(SPEC, "Process", "cwd is the working directory of the program")
def cwd(case: Case) -> None:
    config = case.config("pwd")
    config["process"]["cwd"] = "/etc"
    equal(case.output(config), "/etc\n", "pwd")


@requirement(SPEC, "Process", "a cwd that is not absolute MUST fail (MUST be absolute)")
def cwd_relative(case: Case) -> None:
    config = case.config("pwd")
    config["process"]["cwd"] = "etc"
    must_fail(case.run(config), "run with a relative cwd")


@requirement(SPEC, "POSIX-platform User", "uid is the user ID of the process")
def user_uid(case: Case) -> None:
    config = case.config("id -u")
    config["process"]["user"] = {"uid": 1000, "gid": 1000}
    equal(case.output(config), "1000\n", "id -u")


@requirement(SPEC, "POSIX-platform User", "gid is the group ID of the process")
def user_gid(case: Case) -> None:
    config = case.config("id -g")
    config["process"]["user"] = {"uid": 1000, "gid": 1001}
    equal(case.output(config), "1001\n", "id -g")


@requirement(SPEC, "POSIX-platform User", "additionalGids are added to the process")
def user_additional_gids(case: Case) -> None:
    config = case.config("id -G")
    config["process"]["user"] = {
        "uid": 1000,
        "gid": 1000,
        "additionalGids": [1002, 1003],
    }
    equal(sorted(case.output(config).split()), ["1000", "1002", "1003"], "id -G")


@requirement(SPEC, "POSIX-platform User", "umask is the umask of the process")
def user_umask(case: Case) -> None:
    config = case.config("umask")
    config["process"]["user"] = {"uid": 0, "gid": 0, "umask": 0o027}
    equal(case.output(config).strip(), "0027", "umask")


@requirement(SPEC, "POSIX process", "rlimits: rlim_cur MUST match soft")
def rlimit_soft(case: Case) -> None:
    limits = _limits(case, [{"type": "RLIMIT_NOFILE", "soft": 1000, "hard": 2000}])
    equal(limits.get("Max open files", ("?",))[0], "1000", "soft RLIMIT_NOFILE")


@requirement(SPEC, "POSIX process", "rlimits: rlim_max MUST match hard")
def rlimit_hard(case: Case) -> None:
    limits = _limits(case, [{"type": "RLIMIT_NOFILE", "soft": 1000, "hard": 2000}])
    equal(limits.get("Max open files", ("?", "?"))[1], "2000", "hard RLIMIT_NOFILE")


@requirement(SPEC, "POSIX process", "rlimits: every entry is applied (RLIMIT_MSGQUEUE)")
def rlimit_other(case: Case) -> None:
    limits = _limits(
        case,
        [
            {"type": "RLIMIT_NOFILE", "soft": 1000, "hard": 2000},
            {"type": "RLIMIT_MSGQUEUE", "soft": 4096, "hard": 8192},
        ],
    )
    equal(limits.get("Max msgqueue size"), ("4096", "8192"), "RLIMIT_MSGQUEUE")


@requirement(SPEC, "POSIX process", "an rlimit type with no kernel mapping MUST fail")
def rlimit_unknown(case: Case) -> None:
    config = case.config()
    config["process"]["rlimits"] = [
        {"type": "RLIMIT_CONFORMANCE", "soft": 1, "hard": 1}
    ]
    must_fail(case.run(config), "run with an unknown rlimit")


@requirement(SPEC, "POSIX process", "duplicated rlimits of one type MUST fail")
def rlimit_duplicate(case: Case) -> None:
    config = case.config()
    config["process"]["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 1000, "hard": 2000},
        {"type": "RLIMIT_NOFILE", "soft": 500, "hard": 2000},
    ]
    must_fail(case.run(config), "run with two RLIMIT_NOFILE entries")


@requirement(SPEC, "Process", "terminal false: stdout is the runtime's, not a terminal")
def terminal_false_stdout(case: Case) -> None:
    output = case.sh("echo out; if [ -t 1 ]; then echo tty; else echo no-tty; fi")
    equal(output, "out\nno-tty\n", "stdout of the container")


@requirement(SPEC, "Process", "terminal false: stderr is the runtime's stderr")
def terminal_false_stderr(case: Case) -> None:
    result = case.run(case.config("echo conformance-err >&2"))
    require(result.ok and "conformance-err" in result.stderr, result.describe())


@requirement(SPEC, "Process", "terminal false: stdin is the runtime's stdin")
def terminal_false_stdin(case: Case) -> None:
    output = case.output(case.config("cat"), stdin=b"from stdin\n")
    equal(output, "from stdin\n", "what cat read")


def _cap_check(kind: str) -> None:
    @requirement(SPEC, "Linux Process", f"capabilities.{kind} is the {kind} set")
    def check(case: Case) -> None:
        config = case.config()
        config["process"]["capabilities"] = {
            key: list(value) for key, value in CAPS.items()
        }
        found = int(_status(case, config).get(STATUS_FIELDS[kind], "-1"), 16)
        equal(hex(found), hex(_mask(CAPS[kind])), STATUS_FIELDS[kind])


for _kind in ("bounding", "effective", "permitted", "inheritable", "ambient"):
    _cap_check(_kind)


@requirement(
    SPEC, "Linux Process", "capabilities that cannot be granted SHOULD NOT fail"
)
def capabilities_not_granted(case: Case) -> None:
    with open("/proc/self/status", encoding="utf-8") as status:
        bounding = next(line for line in status if line.startswith("CapBnd"))
    if int(bounding.split()[1], 16) & (1 << CAP_BITS["CAP_SYS_RESOURCE"]):
        raise Skip("the caller has CAP_SYS_RESOURCE, so every capability is grantable")
    config = case.config("echo started")
    wanted = [*CAPS["bounding"], "CAP_SYS_RESOURCE"]
    config["process"]["capabilities"] = {
        kind: wanted for kind in ("bounding", "permitted")
    }
    result = case.run(config)
    require(result.ok and result.stdout == "started\n", result.describe())


@requirement(SPEC, "Linux Process", "noNewPrivileges true sets no_new_privs")
def no_new_privileges(case: Case) -> None:
    config = case.config()
    config["process"]["noNewPrivileges"] = True
    equal(_status(case, config).get("NoNewPrivs"), "1", "NoNewPrivs")


@requirement(SPEC, "Linux Process", "oomScoreAdj set: oom_score_adj MUST be that value")
def oom_score_adj_set(case: Case) -> None:
    config = case.config("cat /proc/self/oom_score_adj")
    config["process"]["oomScoreAdj"] = 123
    equal(case.output(config), "123\n", "oom_score_adj")


@requirement(SPEC, "Linux Process", "oomScoreAdj unset: oom_score_adj MUST NOT change")
def oom_score_adj_unset(case: Case) -> None:
    # the runtime inherits 7 from a shell that raised its own value
    launcher = ("sh", "-c", 'echo 7 > /proc/self/oom_score_adj && exec "$@"', "sh")
    result = case.run(case.config("cat /proc/self/oom_score_adj"), launcher=launcher)
    require(result.ok, result.describe())
    equal(
        result.stdout, "7\n", "oom_score_adj of the runtime's caller was 7; container"
    )
