"""One requirement run against one runtime: its bundles, containers and checks.

A check gets a Case, builds configs from `case.config()`, drives the
runtime through its CLI only, and raises Failure (the requirement is not
met) or Skip (it cannot be checked on this host). close() removes every
container and namespace the case made, whatever happened.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

from conflib import config as configs
from conflib import proc
from conflib.hostns import HostNamespaces
from conflib.runtimes import Runtime
from conflib.workspace import Workspace, fill_rootfs

WAIT_SECONDS = 5.0
_POLL = 0.02


class Failure(Exception):
    """The runtime does not meet the requirement; the message says how."""


class Skip(Exception):
    """The requirement cannot be checked here; the message says why."""


def require(condition: bool, message: str) -> None:
    """Raise Failure with message unless condition holds."""
    if not condition:
        raise Failure(message)


def equal(actual: object, expected: object, what: str) -> None:
    """Raise Failure unless actual equals expected."""
    require(actual == expected, f"{what}: got {actual!r}, expected {expected!r}")


def must_fail(result: proc.Result, what: str) -> None:
    """Raise Failure if a command that MUST generate an error succeeded."""
    require(not result.ok, f"{what} succeeded, MUST fail:\n{result.describe()}")


def must_pass(result: proc.Result, what: str) -> proc.Result:
    """Raise Failure if a command failed; return its result otherwise."""
    require(result.ok, f"{what} failed:\n{result.describe()}")
    return result


class Case:
    """The containers, bundles and host directory of one requirement run."""

    def __init__(self, runtime: Runtime, workspace: Workspace, number: int) -> None:
        self.runtime = runtime
        self.workspace = workspace
        self.dir = workspace.case_dir(runtime.name, number)
        self.out = self.dir / "out"
        self.out.mkdir()
        os.chmod(self.out, 0o777)
        self.namespaces = HostNamespaces(self.dir)
        self.ids: list[str] = []
        self.mounts: list[Path] = []

    def config(self, script: str = "true", args: list[str] | None = None) -> Any:
        """Return the base config.json whose process runs `sh -c script`."""
        argv = args if args is not None else ["sh", "-c", script]
        return configs.base(str(self.workspace.rootfs), argv, str(self.out))

    def new_id(self) -> str:
        """Return a fresh container id; close() force-deletes it."""
        container_id = self.workspace.new_id(self.runtime.name)
        self.ids.append(container_id)
        return container_id

    def cgroups_path(self, container_id: str) -> str:
        """Return the relative cgroupsPath a container of this suite gets."""
        return f"{self.workspace.cgroup_parent}/{container_id}"

    def bundle(self, config: Any, container_id: str) -> Path:
        """Write config.json for container_id; fill in cgroupsPath if unset."""
        linux = config.get("linux")
        if isinstance(linux, dict) and "cgroupsPath" not in linux:
            linux["cgroupsPath"] = self.cgroups_path(container_id)
        bundle = self.bundle_dir(container_id)
        bundle.mkdir(exist_ok=True)
        (bundle / "config.json").write_text(json.dumps(config, indent=2))
        return bundle

    def call(self, *args: str, timeout: float = proc.DEFAULT_TIMEOUT) -> proc.Result:
        """Run a runtime subcommand."""
        return self.runtime.call(*args, timeout=timeout)

    def create(
        self, config: Any, container_id: str | None = None, check: bool = True
    ) -> tuple[str, proc.Result]:
        """Create a container from config; return its id and the result."""
        container_id = container_id or self.new_id()
        bundle = self.bundle(config, container_id)
        result = self.call("create", "--bundle", str(bundle), container_id)
        if check:
            must_pass(result, "create")
        return container_id, result

    def start(self, container_id: str, check: bool = True) -> proc.Result:
        """Start a created container."""
        result = self.call("start", container_id)
        return must_pass(result, "start") if check else result

    def kill(self, container_id: str, signal: str, check: bool = True) -> proc.Result:
        """Send a signal to a container."""
        result = self.call("kill", container_id, signal)
        return must_pass(result, f"kill {signal}") if check else result

    def delete(self, container_id: str, check: bool = True) -> proc.Result:
        """Delete a container (without --force)."""
        result = self.call("delete", container_id)
        return must_pass(result, "delete") if check else result

    def state(self, container_id: str) -> dict[str, Any]:
        """Return the parsed output of `state`.

        Raises:
            Failure: state failed or printed no JSON object.
        """
        result = must_pass(self.call("state", container_id), "state")
        try:
            document = json.loads(result.stdout)
        except ValueError as err:
            raise Failure(
                f"state printed no JSON ({err}):\n{result.describe()}"
            ) from err
        require(isinstance(document, dict), f"state is not an object: {document!r}")
        return dict(document)

    def wait_status(
        self, container_id: str, wanted: str, seconds: float = WAIT_SECONDS
    ) -> dict[str, Any]:
        """Poll `state` until its status is wanted; return that state.

        Raises:
            Failure: the status did not become wanted in time.
        """
        deadline = time.monotonic() + seconds
        while True:
            state = self.state(container_id)
            if state.get("status") == wanted or time.monotonic() > deadline:
                break
            time.sleep(_POLL)
        equal(state.get("status"), wanted, f"status after {seconds:g} s")
        return state

    def run(
        self,
        config: Any,
        stdin: bytes | None = None,
        container_id: str | None = None,
        launcher: tuple[str, ...] = (),
    ) -> proc.Result:
        """Run a container in the foreground and return how `run` ended.

        launcher, if given, is a command line the runtime's is appended to.
        """
        container_id = container_id or self.new_id()
        bundle = self.bundle(config, container_id)
        argv = ("run", "--bundle", str(bundle), container_id)
        return self.runtime.call(*argv, stdin=stdin, launcher=launcher)

    def output(self, config: Any, stdin: bytes | None = None) -> str:
        """Run a container that must succeed and return its stdout."""
        return must_pass(self.run(config, stdin=stdin), "run").stdout

    def sh(self, script: str) -> str:
        """Run `sh -c script` in the base config and return its stdout."""
        return self.output(self.config(script))

    def bundle_dir(self, container_id: str) -> Path:
        """Return the bundle directory bundle() uses for container_id."""
        return self.dir / f"bundle-{container_id.replace('/', '_')}"

    def private_rootfs(self, container_id: str) -> Path:
        """Make a writable busybox root in container_id's bundle as `rootfs`."""
        rootfs = self.bundle_dir(container_id) / "rootfs"
        fill_rootfs(rootfs)
        return rootfs

    def mount_tmpfs(self, path: Path) -> None:
        """Mount a tmpfs at path in the suite's namespace until close()."""
        path.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(path)], check=True)
        self.mounts.append(path)

    def out_file(self, name: str) -> str | None:
        """Return the text of a file in the case's /out, or None."""
        path = self.out / name
        return path.read_text() if path.exists() else None

    def wait_out(self, name: str, seconds: float = WAIT_SECONDS) -> str | None:
        """Wait for a file in /out to appear and return its text, or None."""
        deadline = time.monotonic() + seconds
        while (self.out / name).exists() is False and time.monotonic() < deadline:
            time.sleep(_POLL)
        time.sleep(_POLL)
        return self.out_file(name)

    def close(self) -> None:
        """Force-delete this case's containers and drop its namespaces."""
        for container_id in self.ids:
            self.runtime.call("delete", "--force", container_id, timeout=30)
        self.namespaces.close()
        for path in reversed(self.mounts):
            subprocess.run(["umount", "--lazy", str(path)], check=False)
